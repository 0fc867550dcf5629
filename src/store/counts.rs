//! Task counts by state, and failed tasks: what the reports read, the
//! same on every backend.

use chrono::NaiveDate;

use super::TaskState;

/// Task counts by state. The fields are named as the states are (a test
/// checks it), which JSON reports show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct StateCounts {
    pub queued: u64,
    pub not_yet_due: u64,
    pub in_progress: u64,
    pub done: u64,
    pub no_data: u64,
    pub outside_history: u64,
    pub cooling: u64,
    pub failed: u64,
    pub abandoned: u64,
}

impl std::ops::AddAssign for StateCounts {
    fn add_assign(&mut self, o: StateCounts) {
        for state in TaskState::ALL {
            self[state] += o[state];
        }
    }
}

impl StateCounts {
    /// All tasks.
    pub fn total(&self) -> u64 {
        TaskState::ALL.iter().map(|s| self[*s]).sum()
    }

    /// Tasks finished (done, no data, outside history, cooling down, failed
    /// or abandoned): what a run moves.
    pub fn finished(&self) -> u64 {
        TaskState::ALL.iter().filter(|s| s.is_finished()).map(|s| self[*s]).sum()
    }

    /// Each state with its count, in the order reports list them.
    pub fn by_state(&self) -> [(TaskState, u64); TaskState::ALL.len()] {
        TaskState::ALL.map(|s| (s, self[s]))
    }

    /// Moves `n` tasks counted as not yet due to queued: their time came,
    /// and no run has queued them yet.
    pub(super) fn came_due(&mut self, n: u64) {
        let n = n.min(self.not_yet_due);
        self.not_yet_due -= n;
        self.queued += n;
    }
}

impl std::ops::Index<TaskState> for StateCounts {
    type Output = u64;

    fn index(&self, state: TaskState) -> &u64 {
        match state {
            TaskState::Queued => &self.queued,
            TaskState::NotYetDue => &self.not_yet_due,
            TaskState::InProgress => &self.in_progress,
            TaskState::Done => &self.done,
            TaskState::NoData => &self.no_data,
            TaskState::OutsideHistory => &self.outside_history,
            TaskState::Cooling => &self.cooling,
            TaskState::Failed => &self.failed,
            TaskState::Abandoned => &self.abandoned,
        }
    }
}

impl std::ops::IndexMut<TaskState> for StateCounts {
    fn index_mut(&mut self, state: TaskState) -> &mut u64 {
        match state {
            TaskState::Queued => &mut self.queued,
            TaskState::NotYetDue => &mut self.not_yet_due,
            TaskState::InProgress => &mut self.in_progress,
            TaskState::Done => &mut self.done,
            TaskState::NoData => &mut self.no_data,
            TaskState::OutsideHistory => &mut self.outside_history,
            TaskState::Cooling => &mut self.cooling,
            TaskState::Failed => &mut self.failed,
            TaskState::Abandoned => &mut self.abandoned,
        }
    }
}

/// A task that gave up, with the error that made it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FailedTask {
    pub exchange: String,
    pub symbol: String,
    pub day: NaiveDate,
    pub attempts: u32,
    pub error: String,
    /// For a failure on transient errors: when a run asks again (ms since
    /// the epoch). `None` for a permanent one, which waits for `retry`.
    pub again_at: Option<i64>,
    /// Rounds of attempts that ended in a cool-down.
    pub rounds: u32,
}
