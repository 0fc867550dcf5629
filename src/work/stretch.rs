//! What a run asks after an answer: the stretches of a batch's days that the
//! answer left unproven (`source::prove`), each asked in a request of its
//! own. A page cut where its source cuts pages is followed on from where it
//! stopped; any other stretch is asked once more, and then given up on for
//! this attempt.

use crate::source::Unproven;
use crate::store::Task;

/// Days of a batch asked for in one request.
pub(super) struct Stretch {
    /// In day order.
    pub tasks: Vec<Task>,
    /// Asked once more already because an answer did not prove them: the
    /// next answer proves them, or they are not asked a third time.
    pub again: bool,
    /// On from where a page of the source stopped at a cap.
    pub follows: bool,
}

impl Stretch {
    /// A batch's days, asked for the first time.
    pub fn first(tasks: Vec<Task>) -> Stretch {
        Stretch { tasks, again: false, follows: false }
    }
}

/// What an answer left of a stretch.
#[derive(Default)]
pub(super) struct Left {
    /// To ask next, in day order.
    pub ask: Vec<Stretch>,
    /// Not proven by the answer to a second asking, with what it lacked.
    pub unproven: Vec<(Vec<Task>, String)>,
    /// Not proven twice, before the first row of a source that keeps only
    /// its latest candles: outside its history.
    pub outside: Vec<Task>,
}

/// Groups the tasks an answer left (each with its place in the stretch,
/// in order) into stretches of neighbours left for the same reason.
/// `again`: the stretch was asked once more already.
pub(super) fn split(left: Vec<(usize, Task, Unproven)>, again: bool) -> Left {
    let mut groups: Vec<(usize, Unproven, Vec<Task>)> = Vec::new();
    for (at, task, why) in left {
        match groups.last_mut() {
            Some((end, kind, tasks)) if *end + 1 == at && same(kind, &why) => {
                *end = at;
                tasks.push(task);
            }
            _ => groups.push((at, why, vec![task])),
        }
    }
    let mut out = Left::default();
    for (_, why, tasks) in groups {
        match why {
            Unproven::Cut => out.ask.push(Stretch { tasks, again, follows: true }),
            Unproven::Lacking { .. } if !again => out.ask.push(Stretch { tasks, again: true, follows: false }),
            Unproven::Lacking { history_ends: true, .. } => out.outside.extend(tasks),
            Unproven::Lacking { why, .. } => out.unproven.push((tasks, why)),
        }
    }
    out
}

/// The error of days that the answer to a second asking did not show
/// either: transient, so that they cool down and a later run asks again
/// (a server that cut a page today may not tomorrow), never `no data`.
pub(super) fn unshown(source: &str, tasks: &[Task], why: &str) -> String {
    let (a, b) = (tasks[0].day, tasks[tasks.len() - 1].day);
    let days = if a == b { a.to_string() } else { format!("{a} to {b}") };
    format!(
        "{source} was asked twice for {days} and its answers did not show them ({why}): nothing proves they have no \
         price; asked again later"
    )
}

/// Whether two days were left for the same reason (a head and a tail of one
/// answer never touch but where no row proves anything, and then agree).
fn same(a: &Unproven, b: &Unproven) -> bool {
    match (a, b) {
        (Unproven::Cut, Unproven::Cut) => true,
        (Unproven::Lacking { history_ends: x, .. }, Unproven::Lacking { history_ends: y, .. }) => x == y,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(day: &str) -> Task {
        let day = day.parse().unwrap();
        Task {
            id: 0,
            exchange: "x".into(),
            symbol: "y".into(),
            day,
            interval: crate::interval::Interval::D1,
            source: "z".into(),
            attempts: 0,
            rounds: 0,
            token: 0,
        }
    }

    fn lacking(why: &str, history_ends: bool) -> Unproven {
        Unproven::Lacking { why: why.into(), history_ends }
    }

    #[test]
    fn neighbours_left_for_one_reason_are_one_stretch() {
        let t = |d: u32| task(&format!("2020-01-{d:02}"));
        // Days 1-2 before the first row, 3 proved, 4-5 cut, 7 lacking (6 proved).
        let left = vec![
            (0, t(1), lacking("its rows start at 2020-01-03", false)),
            (1, t(2), lacking("its rows start at 2020-01-03", false)),
            (3, t(4), Unproven::Cut),
            (4, t(5), Unproven::Cut),
            (6, t(7), lacking("x", false)),
        ];
        let out = split(left.clone(), false);
        let asks: Vec<(usize, bool, bool)> = out.ask.iter().map(|s| (s.tasks.len(), s.again, s.follows)).collect();
        assert_eq!(asks, [(2, true, false), (2, false, true), (1, true, false)]);
        assert!(out.unproven.is_empty() && out.outside.is_empty());

        // Asked once more: what is still lacking is given up on, a cut followed.
        let left = vec![
            (0, t(1), lacking("its rows start at 2020-01-03", false)),
            (1, t(2), lacking("y", true)),
            (2, t(3), Unproven::Cut),
        ];
        let out = split(left, true);
        assert_eq!(out.unproven.len(), 1);
        assert_eq!(out.unproven[0].1, "its rows start at 2020-01-03");
        assert_eq!(out.outside.len(), 1);
        assert_eq!(out.ask.len(), 1);
        assert!(out.ask[0].again && out.ask[0].follows);
    }
}
