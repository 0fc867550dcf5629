//! The summary of a run of `work` or `fetch`: lines for people on
//! standard error, and with `--format json` one JSON object on standard
//! output for programs, both from the same [`Summary`].

use std::io::Write;
use std::sync::atomic::Ordering;

use anyhow::{Context, Result};
use serde::Serialize;

use super::progress::Unpublished;
use super::{plural, Env, STOP};
use crate::cli::SummaryFormat;
use crate::clock;
use crate::error::Exit;
use crate::store::StateCounts;
use crate::work::Summary;

/// What a run did: its summary, and what it asked for that was not
/// published yet.
pub(super) struct Ran {
    pub summary: Summary,
    pub unpublished: Unpublished,
}

/// Prints the summary of `ran`, which ends with `code`: its lines on
/// standard error (as `--quiet` allows), and with `--format json` (or
/// ndjson) one JSON object on standard output too, for a script to read
/// while a person still sees the lines.
pub(super) fn print(env: &Env, ran: &Ran, code: Exit, format: SummaryFormat) -> Result<()> {
    for line in summary_lines(ran) {
        env.report(&line, code);
    }
    if format == SummaryFormat::Text {
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, &Json::of(ran, code))?;
    writeln!(out).and_then(|()| out.flush()).context("writing the summary to standard output")
}

/// Whether the run was stopped by Ctrl-C or SIGTERM.
fn interrupted(s: &Summary) -> bool {
    s.interrupted || STOP.load(Ordering::Relaxed)
}

/// The summary as JSON: what a script reads instead of the lines. Times
/// are RFC 3339 in UTC, durations in seconds; `null` where there is none.
#[derive(Debug, Serialize)]
struct Json {
    /// The exit code the command ends with.
    exit: i32,
    /// This run's tasks by outcome.
    fetched: u64,
    /// Candles below a day stored (a day of them is one `fetched`).
    candles: u64,
    no_data: u64,
    outside_history: u64,
    failed: u64,
    cooling: u64,
    retried: u64,
    deferred: u64,
    not_yet: u64,
    /// Tasks of the selection that failed in earlier runs (0 for `work`).
    failed_earlier: u64,
    requests: u64,
    slowdowns: u64,
    paused_seconds: f64,
    recovered: u64,
    discarded: u64,
    elapsed_seconds: f64,
    tasks_per_second: f64,
    interrupted: bool,
    deadline_reached: bool,
    unpublished: u64,
    unpublished_asked_again_at: Option<String>,
    waiting: u64,
    next_due: Option<String>,
    cooled: u64,
    next_cooled: Option<String>,
    /// The selection's tasks by state when the run ended (`fetch`); `null`
    /// for `work`, which works on the whole queue.
    tasks: Option<StateCounts>,
    sources: Vec<SourceJson>,
}

/// What one source's answers came to.
#[derive(Debug, Serialize)]
struct SourceJson {
    source: String,
    requests: u64,
    answered: u64,
    failing_again: u64,
    broken: bool,
    last_error: Option<String>,
}

/// A time (ms since the epoch) as RFC 3339, to the second.
fn time(at: Option<i64>) -> Option<String> {
    at.and_then(chrono::DateTime::from_timestamp_millis).map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

impl Json {
    fn of(ran: &Ran, code: Exit) -> Json {
        let s = &ran.summary;
        Json {
            exit: code.code(),
            fetched: s.fetched,
            candles: s.candles,
            no_data: s.no_data,
            outside_history: s.outside_history,
            failed: s.failed,
            cooling: s.cooling,
            retried: s.retried,
            deferred: s.deferred,
            not_yet: s.not_yet,
            failed_earlier: s.failed_in_all().saturating_sub(s.failed),
            requests: s.requests,
            slowdowns: s.slowdowns,
            paused_seconds: s.paused.as_secs_f64(),
            recovered: s.recovered,
            discarded: s.discarded,
            elapsed_seconds: s.elapsed.as_secs_f64(),
            tasks_per_second: s.rate(),
            interrupted: interrupted(s),
            deadline_reached: s.deadline_reached,
            unpublished: ran.unpublished.count,
            unpublished_asked_again_at: time(ran.unpublished.asks_again),
            waiting: s.waiting,
            next_due: time(s.next_due),
            cooled: s.cooled,
            next_cooled: time(s.next_cooled),
            tasks: s.tasks,
            sources: s
                .sources
                .iter()
                .map(|r| SourceJson {
                    source: r.source.clone(),
                    requests: r.requests,
                    answered: r.answered,
                    failing_again: r.failing_again,
                    broken: r.broken(),
                    last_error: r.last_error.clone(),
                })
                .collect(),
        }
    }
}

/// The summary of a run: the line of counts, then a line on the days the
/// server had not published yet, one on those not yet due, and one on the
/// failures cooling down, if any.
fn summary_lines(ran: &Ran) -> Vec<String> {
    let s = &ran.summary;
    let mut lines = vec![summary_line(s)];
    let asked = ran.unpublished;
    if asked.count > 0 {
        // A run that fetched nothing must say why: the server answered, but
        // without these prices, which a live server publishes a while after
        // the day ends.
        // Not "answered null": a range source says it with a missing row or
        // a candle not closed yet, and the reference API with `null`.
        lines.push(format!(
            "the server has not published {} yet (no price, or a candle not closed yet, for {} within --settle); \
             they are asked again from {}",
            plural(asked.count, "price", "prices"),
            if asked.count == 1 { "a day that ended" } else { "days that ended" },
            asked.asks_again.map_or_else(|| "?".into(), clock::show)
        ));
    }
    if s.waiting > 0 {
        lines.push(format!(
            "{} not yet due (their day has not ended, or the server had no price yet); the first comes due at {}: a later run fetches them",
            plural(s.waiting, "task is", "tasks are"),
            s.next_due.map_or_else(|| "?".into(), clock::show)
        ));
    }
    if s.cooled > 0 {
        lines.push(format!(
            "{} on transient errors (server errors, timeouts, busy or unfinished answers); a run from {} on asks again: \
             `pricequeue status` shows them",
            plural(s.cooled, "task failed", "tasks failed"),
            s.next_cooled.map_or_else(|| "?".into(), clock::show)
        ));
    }
    let earlier = s.failed_in_all().saturating_sub(s.failed);
    if earlier > 0 {
        lines.push(format!(
            "{} of this selection failed in earlier runs; `pricequeue status` shows why, \
             `pricequeue retry` queues them again, `pricequeue retry --never` gives up on them",
            plural(earlier, "task", "tasks"),
        ));
    }
    lines
}

/// A line for each source that answered nothing usable in the run while
/// tasks failed a second round of attempts in a row: said even with
/// --quiet (cron mails what a job prints), since the cool-down between two
/// rounds is an hour at least, so this is no blip. The exit code stays 0:
/// the tasks are not failed for good, and a later run asks again.
pub(super) fn broken_sources(s: &Summary) -> Vec<String> {
    s.sources
        .iter()
        .filter(|r| r.broken())
        .map(|r| {
            format!(
                "{} has answered nothing usable for over an hour: {} failed a second round of attempts in a row, \
                 the last with: {}. A later run asks again; `pricequeue status` shows them",
                r.source,
                plural(r.failing_again, "task", "tasks"),
                r.last_error.as_deref().unwrap_or("none recorded")
            )
        })
        .collect()
}

/// "fetched 780 prices, 336 no data, 0 failed, 2 retried in 1.21 s (925 tasks/s)", and what else happened.
pub(super) fn summary_line(s: &Summary) -> String {
    let outside = if s.outside_history > 0 {
        format!(", {} outside the source's history", s.outside_history)
    } else {
        String::new()
    };
    let finished = s.fetched + s.no_data + s.outside_history + s.failed;
    // A rate only means something when something was finished.
    let rate = if finished > 0 { format!(" ({:.0} tasks/s)", s.rate()) } else { String::new() };
    let mut line = format!(
        "fetched {}, {} no data{outside}, {} failed, {} retried in {:.2} s{rate}",
        fetched(s),
        s.no_data,
        s.failed,
        s.retried,
        s.elapsed.as_secs_f64(),
    );
    if s.slowdowns > 0 {
        let times = match s.slowdowns {
            1 => "once".to_string(),
            n => format!("{n} times"),
        };
        line.push_str(&format!("; the server asked to slow down {times}, {:.1} s of pauses", s.paused.as_secs_f64()));
    }
    if s.recovered > 0 {
        line.push_str(&format!(
            "; took back {} from runs that died or whose lease ran out",
            plural(s.recovered, "task", "tasks")
        ));
    }
    if s.discarded > 0 {
        line.push_str(&format!(
            "; {} discarded (another run had taken their tasks over)",
            plural(s.discarded, "result", "results")
        ));
    }
    if s.deadline_reached {
        line.push_str("; stopped at the --deadline: run the same command again to carry on");
    }
    if interrupted(s) {
        line.push_str("; interrupted: run the same command again to carry on");
    }
    line
}

/// "780 prices"; with candles below a day, "3 days (4,320 candles)": the
/// days settled (a day of candles, or a day's price), and the candles.
fn fetched(s: &Summary) -> String {
    if s.candles == 0 {
        return plural(s.fetched, "price", "prices");
    }
    format!("{} ({})", plural(s.fetched, "day", "days"), plural(s.candles, "candle", "candles"))
}

/// 130 if interrupted, 4 if tasks failed (of the selection, for a run that
/// had one: a task that failed in an earlier run is still a price the
/// command did not get), 3 if the deadline left tasks, else 0.
pub(super) fn exit_code(s: &Summary) -> Exit {
    if s.interrupted {
        Exit::Interrupted
    } else if s.failed_in_all() > 0 {
        Exit::Failed
    } else if s.deadline_reached {
        Exit::Incomplete
    } else {
        Exit::Ok
    }
}
