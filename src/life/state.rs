//! The states a task goes through, and every move between them: the one
//! list that the store's rules, the reports and `docs/state-machine.md`
//! derive from.

/// Where a task stands: what `tasks.state` holds, by [`TaskState::name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TaskState {
    /// Waiting to be claimed, from `next_attempt_at` on.
    Queued,
    /// Its day has not come due (or its price was not published yet):
    /// queued from `next_attempt_at` on.
    NotYetDue,
    /// Claimed by the worker named in `owner`, until `lease_until`.
    InProgress,
    /// The price is in `prices`.
    Done,
    /// The price server has no price for the day.
    NoData,
    /// Gave up: a permanent error, or transient ones over every round of
    /// attempts. A person is needed.
    Failed,
    /// Its attempts ran out on transient errors (5xx, timeouts, resets,
    /// rate limits): it cools down, and a run from `next_attempt_at` on
    /// queues it again; `rounds` counts the rounds that ended so.
    Cooling,
    /// A failure given up on for good (`retry --never`).
    Abandoned,
    /// The source cannot serve the day at all (Kraken keeps only its latest
    /// 720 daily candles): not "no data", which says the day had no trades.
    OutsideHistory,
}

use TaskState::*;

impl TaskState {
    /// Every state, in the order reports list them.
    pub const ALL: [TaskState; 9] =
        [Queued, NotYetDue, InProgress, Done, NoData, OutsideHistory, Cooling, Failed, Abandoned];

    /// The state's name, as `tasks.state` stores it and reports show it.
    pub const fn name(self) -> &'static str {
        match self {
            Queued => "queued",
            NotYetDue => "not_yet_due",
            InProgress => "in_progress",
            Done => "done",
            NoData => "no_data",
            Failed => "failed",
            Cooling => "cooling",
            Abandoned => "abandoned",
            OutsideHistory => "outside_history",
        }
    }

    /// The state named `name`, if there is one.
    pub fn from_name(name: &str) -> Option<TaskState> {
        TaskState::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The state as a reader says it, as the missing report's reasons do.
    pub const fn words(self) -> &'static str {
        match self {
            Queued => "queued",
            NotYetDue => "not yet due",
            InProgress => "in progress",
            Done => "done",
            NoData => "no data",
            Failed => "failed",
            Cooling => "cooling down",
            Abandoned => "abandoned",
            OutsideHistory => "outside the source's history",
        }
    }

    /// Whether the task is finished: nothing is left to do for it until a
    /// command queues it again (or, cooling, until its cool-down ends).
    pub const fn is_finished(self) -> bool {
        matches!(self, Done | NoData | OutsideHistory | Cooling | Failed | Abandoned)
    }

    /// The state a task arrives in when `copy` brings it to another
    /// database: a claim belongs to the database it was taken in, so a
    /// task in progress arrives queued.
    pub const fn arriving(self) -> TaskState {
        match self {
            InProgress => Queued,
            other => other,
        }
    }

    /// Every move a task can make, with what makes it: what
    /// `docs/state-machine.md` draws. `None` is where a task starts: an
    /// enqueue. (Enqueueing a task already there leaves it as it is.)
    pub const EDGES: [(Option<TaskState>, TaskState, &'static str); 21] = [
        (None, Queued, "enqueued, its day due"),
        (None, NotYetDue, "enqueued, its day not ended"),
        (Some(NotYetDue), Queued, "its day comes due"),
        (Some(Queued), InProgress, "claimed, once due"),
        (Some(InProgress), Done, "a price"),
        (Some(InProgress), NoData, "no price for the day"),
        (Some(InProgress), OutsideHistory, "older than the source serves"),
        (Some(InProgress), Failed, "a permanent error, or the last round's last attempt"),
        (Some(InProgress), Cooling, "a transient error's last attempt, rounds left"),
        (Some(InProgress), Queued, "a transient error, a rate limit, or released"),
        (Some(InProgress), NotYetDue, "not published yet"),
        (Some(InProgress), Queued, "lease expired, or its owner died"),
        (Some(Failed), Queued, "retry, or refresh"),
        (Some(Cooling), Queued, "its cool-down ends"),
        (Some(Cooling), Queued, "retry, or refresh"),
        (Some(Failed), Abandoned, "retry --never"),
        (Some(Cooling), Abandoned, "retry --never"),
        (Some(Abandoned), Queued, "retry --abandoned"),
        (Some(Done), Queued, "refresh"),
        (Some(NoData), Queued, "refresh"),
        (Some(OutsideHistory), Queued, "refresh"),
    ];

    /// [`TaskState::EDGES`] as a Mermaid state diagram, as
    /// `docs/state-machine.md` shows it.
    pub fn mermaid() -> String {
        let mut out = String::from("stateDiagram-v2\n");
        for (from, to, why) in TaskState::EDGES {
            let from = from.map_or("[*]", TaskState::name);
            out.push_str(&format!("    {from} --> {to}: {why}\n"));
        }
        out.push_str("    classDef finished font-weight:bold\n");
        for state in TaskState::ALL.into_iter().filter(|s| s.is_finished()) {
            out.push_str(&format!("    class {state} finished\n"));
        }
        out
    }
}

impl std::fmt::Display for TaskState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
