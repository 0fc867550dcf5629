//! A fetcher's turn at its source: the pause the source asked for, then a
//! request slot when the source has a pace (`--rate` or its documented
//! one), shared by every worker of the lane.

use std::sync::atomic::Ordering;
use std::thread;
use std::time::Duration;

use super::fetcher::Fetcher;
use super::Lane;
use crate::clock::{self, now_ms};

impl Fetcher {
    /// Waits out any pause the source asked for, then for a request slot
    /// when the source has a pace; false if the run stops meanwhile.
    pub(super) fn wait_for_turn(&self, lane: &Lane) -> bool {
        loop {
            if !self.wait_for_pause(lane) {
                return false;
            }
            if lane.rate.is_some() && !self.take_slot(lane) {
                return false;
            }
            // A pause may have begun while we waited for the slot.
            if lane.paused_until.load(Ordering::Relaxed) <= now_ms() {
                return true;
            }
        }
    }

    /// Honours a source's Retry-After; false if the run stops meanwhile.
    fn wait_for_pause(&self, lane: &Lane) -> bool {
        let mut waited = false;
        loop {
            let wait = lane.paused_until.load(Ordering::Relaxed).saturating_sub(now_ms());
            if wait <= 0 {
                if !waited {
                    return true;
                }
                // Spread the restart, or every worker asks at the same
                // instant and the server refuses them all again; then look
                // again, since the first to ask may have been refused.
                waited = false;
                thread::sleep(Duration::from_millis(fastrand::u64(..=250)));
                continue;
            }
            if self.shared.stopping.load(Ordering::Relaxed) {
                return false;
            }
            waited = true;
            thread::sleep(Duration::from_millis(wait.min(100) as u64));
        }
    }

    /// Takes the next request slot of the lane and sleeps until it; false
    /// if the run stops meanwhile. A slot gone by more than a quarter of an
    /// interval is dropped, not used late: using it would bunch requests.
    /// So any second holds the slots of at most a second and a quarter
    /// interval: the rate, plus one.
    fn take_slot(&self, lane: &Lane) -> bool {
        let interval = lane.rate.map_or(0, clock::ms);
        let slot = {
            let mut slots = lane.slots.lock().unwrap_or_else(|e| e.into_inner());
            loop {
                let now = now_ms();
                while slots.front().is_some_and(|s| *s < now - interval / 4) {
                    slots.pop_front();
                }
                if let Some(slot) = slots.pop_front() {
                    break slot;
                }
                if self.shared.stopping.load(Ordering::Relaxed) {
                    return false;
                }
                slots =
                    lane.slot_added.wait_timeout(slots, Duration::from_millis(50)).unwrap_or_else(|e| e.into_inner()).0;
            }
        };
        super::sleep_until(slot, &self.shared.stopping)
    }
}
