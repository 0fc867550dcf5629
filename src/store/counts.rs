//! Task counts by state, and failed tasks: what the reports read, the
//! same on every backend.

use chrono::NaiveDate;

/// Task counts by state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct StateCounts {
    pub queued: u64,
    pub not_yet_due: u64,
    pub in_progress: u64,
    pub done: u64,
    pub no_data: u64,
    pub failed: u64,
    pub abandoned: u64,
}

impl std::ops::AddAssign for StateCounts {
    fn add_assign(&mut self, o: StateCounts) {
        self.queued += o.queued;
        self.not_yet_due += o.not_yet_due;
        self.in_progress += o.in_progress;
        self.done += o.done;
        self.no_data += o.no_data;
        self.failed += o.failed;
        self.abandoned += o.abandoned;
    }
}

impl StateCounts {
    /// All tasks.
    pub fn total(&self) -> u64 {
        self.queued + self.not_yet_due + self.in_progress + self.done + self.no_data + self.failed + self.abandoned
    }

    /// Tasks finished (done, no data, failed or abandoned): what a run moves.
    pub fn finished(&self) -> u64 {
        self.done + self.no_data + self.failed + self.abandoned
    }

    /// Each state with its count, in the order reports list them.
    pub fn by_state(&self) -> [(&'static str, u64); 7] {
        [
            ("queued", self.queued),
            ("not_yet_due", self.not_yet_due),
            ("in_progress", self.in_progress),
            ("done", self.done),
            ("no_data", self.no_data),
            ("failed", self.failed),
            ("abandoned", self.abandoned),
        ]
    }

    pub(super) fn add(&mut self, state: &str, n: u64) {
        match state {
            "queued" => self.queued += n,
            "not_yet_due" => self.not_yet_due += n,
            "in_progress" => self.in_progress += n,
            "done" => self.done += n,
            "no_data" => self.no_data += n,
            "failed" => self.failed += n,
            "abandoned" => self.abandoned += n,
            _ => {} // the CHECK constraint allows no other state
        }
    }

    /// Moves `n` tasks counted as not yet due to queued: their time came,
    /// and no run has queued them yet.
    pub(super) fn came_due(&mut self, n: u64) {
        let n = n.min(self.not_yet_due);
        self.not_yet_due -= n;
        self.queued += n;
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
}
