//! What the server sends back to a request, and the kind of answer it was:
//! the types the framing, the routes and the counts share, in a leaf that
//! imports none of them.

use super::faults::Fault;

/// What to send back: an HTTP message, or a fault to act out.
pub(super) enum Response {
    Message {
        status: &'static str,
        content_type: &'static str,
        body: Vec<u8>,
        answer: AnswerKind,
    },
    /// A message with headers of its own (a stand-in's `Retry-After`,
    /// Binance's `X-MBX-USED-WEIGHT-1M`).
    Headed {
        status: &'static str,
        headers: Vec<(&'static str, String)>,
        content_type: &'static str,
        body: Vec<u8>,
        answer: AnswerKind,
    },
    Fault(Fault),
}

impl Response {
    /// The kind of answer this is, as the counts and the log keep it.
    pub(super) fn kind(&self) -> AnswerKind {
        match self {
            Response::Message { answer, .. } | Response::Headed { answer, .. } => *answer,
            Response::Fault(f) => AnswerKind::Fault(*f),
        }
    }
}

/// How a request was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerKind {
    Price,
    Null,
    List,
    NotFound,
    /// A 401: no user name and password, or the wrong ones (`basic_auth`).
    Unauthorized,
    Fault(Fault),
}

/// A `200` answer with a JSON body.
pub(super) fn ok_json(body: Vec<u8>, answer: AnswerKind) -> Response {
    Response::Message { status: "200 OK", content_type: "application/json", body, answer }
}
