//! The operations a test case is made of, and how proptest draws them.

use super::*;

/// How a completion ends (delays are from the virtual now).
#[derive(Debug, Clone)]
pub(super) enum Kind {
    Price(u8),
    NoData,
    NotYet {
        note: bool,
        asked: bool,
        delay: i64,
    },
    Retry(i64),
    Defer(i64),
    Failed,
    /// The last attempt of a round failed on a transient error.
    GaveUp,
    Released,
}

/// Which task a completion carries.
#[derive(Debug, Clone)]
pub(super) enum Pick {
    /// The n-th (mod how many) task the owner holds now.
    Held(usize, Kind),
    /// The n-th (mod how many) task ever handed out whose claim is no longer current.
    Stale(usize, Kind),
}

/// (exchange, symbol) from `from` to `to`.
#[derive(Debug, Clone)]
pub(super) struct Range {
    pub(super) exchange: &'static str,
    pub(super) symbol: &'static str,
    pub(super) from: NaiveDate,
    pub(super) to: NaiveDate,
}

impl Range {
    /// The range as a selection of one pair.
    pub(super) fn selection(&self) -> crate::selection::Selection {
        crate::selection::Selection::one(self.exchange, self.symbol, self.from, self.to)
    }

    pub(super) fn holds(&self, key: &Key) -> bool {
        key.0 == self.exchange && key.1 == self.symbol && self.from <= key.2 && key.2 <= self.to
    }
}

#[derive(Debug, Clone)]
pub(super) enum Op {
    Enqueue {
        exchanges: Vec<&'static str>,
        symbols: Vec<&'static str>,
        days: Vec<NaiveDate>,
        grace_hours: u8,
    },
    Claim {
        owner: &'static str,
        limit: usize,
        lease: i64,
    },
    /// One `complete` call with several completions, stale ones mixed in.
    Complete {
        owner: &'static str,
        picks: Vec<Pick>,
    },
    /// A late worker completes a task whose claim lapsed: nothing may change.
    CompleteStale {
        pick: usize,
        kind: Kind,
    },
    Renew {
        owner: &'static str,
        lease: i64,
    },
    Advance(i64),
    RecoverExpired,
    /// The owner died: its tasks go back to the queue.
    ReleaseOwner(&'static str),
    PromoteDue,
    RetryFailed {
        abandoned: bool,
        cell: Option<Range>,
    },
    Abandon(Option<Range>),
    Refresh(Range),
    Recount,
}

pub(super) fn owner() -> impl Strategy<Value = &'static str> {
    select(&OWNERS[..])
}

// Times move on a coarse grid (10 s steps, hours), so that a lease ends,
// a retry comes due and a day ends exactly at the virtual now often
// enough to pin down `<` against `<=`.

pub(super) fn delay() -> impl Strategy<Value = i64> {
    prop_oneof![4 => (0i64..=4).prop_map(|n| n * 10_000), 1 => select(vec![2 * HOUR, 12 * HOUR])]
}

pub(super) fn lease() -> impl Strategy<Value = i64> {
    (1i64..=4).prop_map(|n| n * 10_000)
}

pub(super) fn advance() -> impl Strategy<Value = i64> {
    prop_oneof![4 => (1i64..=6).prop_map(|n| n * 5_000), 1 => select(vec![2 * HOUR, 4 * HOUR, 12 * HOUR])]
}

pub(super) fn day_ix() -> impl Strategy<Value = usize> {
    0usize..all_days().len()
}

/// Days of one pair: half the time all of them.
pub(super) fn range() -> impl Strategy<Value = Range> {
    let n = all_days().len();
    let days = prop_oneof![Just((0, n - 1)), (day_ix(), day_ix()).prop_map(|(a, b)| (a.min(b), a.max(b)))];
    (select(&EXCHANGES[..]), select(&SYMBOLS[..]), days).prop_map(|(exchange, symbol, (a, b))| {
        let days = all_days();
        Range { exchange, symbol, from: days[a], to: days[b] }
    })
}

pub(super) fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        3 => (1u8..100).prop_map(Kind::Price),
        2 => Just(Kind::NoData),
        1 => (any::<bool>(), any::<bool>(), delay()).prop_map(|(note, asked, delay)| Kind::NotYet { note, asked, delay }),
        2 => delay().prop_map(Kind::Retry),
        1 => delay().prop_map(Kind::Defer),
        2 => Just(Kind::Failed),
        2 => Just(Kind::GaveUp),
        1 => Just(Kind::Released),
    ]
}

pub(super) fn enqueue() -> impl Strategy<Value = Op> {
    let n = all_days().len();
    // Ranges (as `enqueue` and `fetch` pass them) or any set of days.
    let days = prop_oneof![
        (0..n, 0..n).prop_map(|(a, b)| all_days()[a.min(b)..=a.max(b)].to_vec()),
        subsequence(all_days(), 1..=n),
    ];
    (subsequence(&EXCHANGES[..], 1..=2), subsequence(&SYMBOLS[..], 1..=2), days, 0u8..=2)
        .prop_map(|(exchanges, symbols, days, grace_hours)| Op::Enqueue { exchanges, symbols, days, grace_hours })
}

pub(super) fn op() -> impl Strategy<Value = Op> {
    let pick = prop_oneof![4 => (0usize..8, kind()).prop_map(|(i, k)| Pick::Held(i, k)),
                           1 => (0usize..8, kind()).prop_map(|(i, k)| Pick::Stale(i, k))];
    prop_oneof![
        1 => enqueue(),
        6 => (owner(), 1usize..=4, lease()).prop_map(|(owner, limit, lease)| Op::Claim { owner, limit, lease }),
        10 => (owner(), vec(pick, 1..=4)).prop_map(|(owner, picks)| Op::Complete { owner, picks }),
        1 => (0usize..8, kind()).prop_map(|(pick, kind)| Op::CompleteStale { pick, kind }),
        1 => (owner(), lease()).prop_map(|(owner, lease)| Op::Renew { owner, lease }),
        3 => advance().prop_map(Op::Advance),
        2 => Just(Op::RecoverExpired),
        1 => owner().prop_map(Op::ReleaseOwner),
        2 => Just(Op::PromoteDue),
        2 => (any::<bool>(), proptest::option::of(range()))
            .prop_map(|(abandoned, cell)| Op::RetryFailed { abandoned, cell }),
        2 => proptest::option::of(range()).prop_map(Op::Abandon),
        3 => range().prop_map(Op::Refresh),
        1 => Just(Op::Recount),
    ]
}

// -------------------------------------------------------------- the model
