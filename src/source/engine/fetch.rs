//! One request for candles, and what its answer says about each slot
//! asked: the slots outside a latest-only source's history, and those not
//! open yet, are answered without asking; the rest are capped at the rows
//! one request returns (the end the source anchors its pages at asked
//! first), sent, read by `rows` and proved by `prove`. At `1d` a slot is a
//! day: `fetch` is this, mapped to days.

use super::*;
use crate::interval::Interval;

impl DeclaredSource {
    /// [`PriceSource::fetch`] at the time `now_ms`.
    pub fn fetch_at(
        &self,
        exchange: &str,
        symbol: &str,
        first: NaiveDate,
        last: NaiveDate,
        now_ms: i64,
    ) -> Result<Answer, FetchError> {
        if self.decl.rows.one {
            self.one_exchange(exchange)?;
            return self.fetch_one(exchange, symbol, first, last, now_ms);
        }
        let day = Interval::D1;
        let answer = self.fetch_slots_at(exchange, symbol, day, day.first_slot(first), day.first_slot(last), now_ms)?;
        let days = answer.slots.into_iter().map(|(s, a)| (day.day_of_slot(s), a)).collect();
        Ok(Answer { days, slow_down: answer.slow_down })
    }

    /// [`PriceSource::fetch_slots`] at the time `now_ms`.
    pub fn fetch_slots_at(
        &self,
        exchange: &str,
        symbol: &str,
        interval: Interval,
        first: i64,
        last: i64,
        now_ms: i64,
    ) -> Result<SlotAnswer, FetchError> {
        self.one_exchange(exchange)?;
        let spelled = self.serves(interval)?;
        if self.decl.rows.one {
            let answer =
                self.fetch_at(exchange, symbol, interval.day_of_slot(first), interval.day_of_slot(last), now_ms)?;
            let slots = answer.days.into_iter().map(|(d, a)| (interval.first_slot(d), a)).collect();
            return Ok(SlotAnswer { slots, slow_down: answer.slow_down });
        }
        let oldest = self.oldest_kept(interval, now_ms);
        let mut slots: Vec<(i64, DayAnswer)> = Vec::new();
        let from = match oldest {
            Some(o) if o > first => {
                slots.extend((first..o.min(last + 1)).map(|s| (s, DayAnswer::OutsideHistory)));
                o
            }
            _ => first,
        };
        // Slots that have not opened yet (today's later candles) cannot be
        // closed: not asked, not left for the next page. The current one is
        // asked, as its row proves a quiet candle before it empty.
        let future = (interval.slot_of_ms(now_ms) + 1).max(from);
        let mut answered =
            self.answer_slots(exchange, symbol, interval, spelled, from, last.min(future - 1), now_ms, slots)?;
        answered.slots.extend((future..=last).map(|s| (s, DayAnswer::NotClosed)));
        Ok(answered)
    }

    /// The slots `from..=last` asked in one request, capped at the rows one
    /// returns, and proved, after `slots` (those answered without asking).
    #[allow(clippy::too_many_arguments)]
    fn answer_slots(
        &self,
        exchange: &str,
        symbol: &str,
        interval: Interval,
        spelled: &str,
        from: i64,
        last: i64,
        now_ms: i64,
        mut slots: Vec<(i64, DayAnswer)>,
    ) -> Result<SlotAnswer, FetchError> {
        if from > last {
            return Ok(SlotAnswer { slots, slow_down: None });
        }
        // More slots than one request returns: ask for the anchored end, leave the rest.
        let max = i64::from(self.decl.max_rows(interval).max(1));
        let (from, to) = match (last - from < max, self.decl.paging) {
            (true, _) => (from, last),
            (false, Paging::Forward) => {
                slots.extend((from + max..=last).map(|s| (s, DayAnswer::Unanswered(Unproven::Cut))));
                (from, from + max - 1)
            }
            (false, Paging::Backward) => {
                slots.extend((from..last - max + 1).map(|s| (s, DayAnswer::Unanswered(Unproven::Cut))));
                (last - max + 1, last)
            }
        };
        // Below a day, a stretch that ends at the last closed candle is
        // asked through the current one when the page has room: its row
        // proves a quiet last candle empty, as a later row proves a gap (a
        // quiet minute is common, and nothing else would prove it until the
        // next one closes). The current candle is not answered.
        let current = interval.slot_of_ms(now_ms);
        let through = if !interval.is_day() && to + 1 == current && to - from + 1 < max { current } else { to };
        let req = self.build(&self.candles, exchange, symbol, interval, spelled, from, through)?;
        let reply = self.get(&req, symbol)?;
        let shown = req.shown();
        let rows = rows::read(&reply.body, &self.decl.rows, interval).map_err(|e| {
            self.mask_error(match e {
                Unreadable::Garbled(m) => {
                    FetchError::Transient(format!("{shown}: {m}: {}", self.secrets.quote(&reply.body)))
                }
                Unreadable::Shape(m) => {
                    FetchError::Permanent(format!("{shown}: the answer is not as {} is declared: {m}", self.name))
                }
            })
        })?;
        let asked = Asked::new(&self.decl, &self.candles, interval, from, through);
        let proved = prove(&rows, &asked, now_ms).map_err(|e| self.mask_error(self.invalid(&shown, &asked, e)))?;
        slots.extend(proved.into_iter().filter(|(s, _)| *s <= to));
        slots.sort_by_key(|(s, _)| *s);
        Ok(SlotAnswer { slots, slow_down: self.slow_down(reply.used_weight, now_ms) })
    }

    /// How the source spells `interval`, or an error naming those it serves.
    pub(super) fn serves(&self, interval: Interval) -> Result<&str, FetchError> {
        self.decl.spelled(interval).ok_or_else(|| {
            let served: Vec<Interval> = self.decl.intervals().into_iter().map(|(i, _)| i).collect();
            FetchError::Permanent(format!(
                "{} serves no {interval} candles: it serves {}",
                self.name,
                Interval::list(&served)
            ))
        })
    }

    /// The oldest slot at `interval` the source still serves at `now_ms`,
    /// when it keeps only its latest candles (the current one among them).
    pub(super) fn oldest_kept(&self, interval: Interval, now_ms: i64) -> Option<i64> {
        let kept = i64::from(self.decl.history(interval)?);
        Some(interval.slot_of_ms(now_ms) - (kept - 1).max(0))
    }

    fn one_exchange(&self, exchange: &str) -> Result<(), FetchError> {
        if self.one_exchange && exchange != self.name {
            return Err(FetchError::Permanent(format!("{} serves one exchange, {0}, not {exchange:?}", self.name)));
        }
        Ok(())
    }

    /// [`DeclaredSource::fetch_at`] for a source that answers one row a
    /// request (`rows.one`): `first` is asked for, any later day left
    /// unanswered (`max_days` is 1, so none is).
    fn fetch_one(
        &self,
        exchange: &str,
        symbol: &str,
        first: NaiveDate,
        last: NaiveDate,
        now_ms: i64,
    ) -> Result<Answer, FetchError> {
        let day = Interval::D1;
        let slot = day.first_slot(first);
        let req = self.build(&self.candles, exchange, symbol, day, "1d", slot, slot)?;
        let reply = self.get(&req, symbol)?;
        let answer = one::read(&reply.body, &self.decl.rows, exchange, symbol, first).map_err(|e| {
            let (shown, quoted) = (req.shown(), self.secrets.quote(&reply.body));
            self.mask_error(match e {
                BadPrice::Json(e) => FetchError::Transient(format!("{shown}: malformed price JSON ({e}): {quoted}")),
                BadPrice::Refused(why) => {
                    FetchError::Permanent(format!("{shown}: not a valid price ({why}): {quoted}"))
                }
            })
        })?;
        let mut days = vec![(first, answer.map_or(DayAnswer::NoData, DayAnswer::Price))];
        days.extend(
            first.iter_days().skip(1).take_while(|d| *d <= last).map(|d| (d, DayAnswer::Unanswered(Unproven::Cut))),
        );
        Ok(Answer { days, slow_down: self.slow_down(reply.used_weight, now_ms) })
    }

    /// Why an answer is refused: a permanent error, since asking again
    /// gets the same from a server that ignores what it is asked, or from a
    /// declaration that misreads it; a person is needed.
    fn invalid(&self, shown: &str, asked: &Asked, e: Invalid) -> FetchError {
        let name = &self.name;
        let what = if asked.interval.is_day() { "days".to_string() } else { format!("{} candles", asked.interval) };
        FetchError::Permanent(match e {
            Invalid::Order => format!(
                "{shown}: the rows are not {} as {name} is declared (order = ...): the declaration or the request is wrong",
                match self.decl.order {
                    Order::OldestFirst => "oldest first",
                    Order::NewestFirst => "newest first",
                },
            ),
            Invalid::Outside { rows, first, last, unit } => {
                let (from, to) = (show_slot(asked.interval, asked.first), show_slot(asked.interval, asked.last));
                let all = if rows == 1 { "the answer's one row, at".to_string() } else { format!("all {rows} rows of the answer, from") };
                let span = if rows == 1 { first } else { format!("{first} to {last}") };
                let why = match unit {
                    Some(u) => format!("{}: check time_format (\"{}\")", u.advice(), self.decl.rows.time_format),
                    None => format!("the server ignored the {what} asked, or {name}'s declaration is wrong"),
                };
                format!("{shown}: {all} {span}, fall outside the {what} asked ({from} to {to}); {why}")
            }
        })
    }

    /// Near the weight budget: no request until the next minute.
    fn slow_down(&self, used: Option<u64>, now_ms: i64) -> Option<Duration> {
        let w = self.decl.used_weight.as_ref()?;
        let used = used?;
        if (used as f64) < f64::from(w.limit) * WEIGHT_MARGIN {
            return None;
        }
        let into_minute = now_ms.rem_euclid(60_000);
        Some(Duration::from_millis((60_000 - into_minute) as u64))
    }
}
