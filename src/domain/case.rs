//! The case lifecycle (SPEC §6) as a pure function: `(case, command, actor, now) → transition |
//! refusal`. No I/O; the services load the case, apply, and store the result with its event.

use super::deadlines::in_time;
use super::release::ReleaseState;
use super::role::Role;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

super::catalogue::code_enum! {
    /// The states of an application.
    State {
        Draft => "draft",
        Submitted => "submitted",
        Returned => "returned",
        InReview => "in_review",
        Approved => "approved",
        PartiallyApproved => "partially_approved",
        Rejected => "rejected",
        Appealed => "appealed",
        Delivered => "delivered",
        Closed => "closed",
        Withdrawn => "withdrawn",
    }
}

super::catalogue::code_enum! {
    /// The named commands; each has a fixed set of roles allowed.
    Command {
        Submit => "submit",
        Withdraw => "withdraw",
        Assign => "assign",
        Return => "return",
        Complete => "complete",
        Decide => "decide",
        Appeal => "appeal",
        LateAppeal => "late_appeal",
        Deliver => "deliver",
        Close => "close",
    }
}

/// The states of a case waiting for a decision: the only states in which a case can be overdue.
pub const AWAITING_DECISION: [State; 4] = [State::Submitted, State::Returned, State::InReview, State::Appealed];

/// The states in which a revised price estimate may be sent (the page offers the form in the
/// same states).
pub const ESTIMATE_STATES: [State; 6] =
    [State::Submitted, State::Returned, State::InReview, State::Appealed, State::Approved, State::PartiallyApproved];

/// Whether work (hours) may be recorded on a case in this state.
pub fn records_work(state: State) -> bool {
    state != State::Draft && !state.ended()
}

impl State {
    /// Whether a case in this state has ended (withdrawn or closed): no more work goes on, so a
    /// revised estimate still waiting for the applicant lapses with it (SPEC §8: the applicant
    /// accepts an estimate "before the work goes on").
    pub fn ended(self) -> bool {
        matches!(self, State::Withdrawn | State::Closed)
    }

    /// Whether a case in this state is waiting for a decision.
    pub fn awaiting_decision(self) -> bool {
        AWAITING_DECISION.contains(&self)
    }

    /// Whether a case in this state with this due date is overdue on `today`: only a case waiting
    /// for a decision can be (a withdrawn, decided or closed case never is).
    pub fn overdue(self, due_date: Option<NaiveDate>, today: NaiveDate) -> bool {
        self.awaiting_decision() && due_date.is_some_and(|d| d < today)
    }

    /// Whether data may have been released in this state (so the applicant confirms deletion).
    pub fn released_data(self) -> bool {
        matches!(self, State::Approved | State::PartiallyApproved | State::Delivered | State::Closed)
    }

    /// Whether data may be delivered (the decision granted some).
    pub fn granted(self) -> bool {
        matches!(self, State::Approved | State::PartiallyApproved)
    }

    /// Whether the applicant may still edit the form.
    pub fn editable(self) -> bool {
        matches!(self, State::Draft | State::Returned)
    }

    /// Whether a decision has been made (or the case has ended without one).
    pub fn decided(self) -> bool {
        matches!(self, State::Approved | State::PartiallyApproved | State::Rejected | State::Delivered | State::Closed)
    }
}

impl Command {
    /// The roles that may give the command (the one place this is written down).
    pub fn roles(self) -> &'static [Role] {
        match self {
            Command::Submit | Command::Withdraw | Command::Appeal => &[Role::Applicant],
            Command::Assign
            | Command::Return
            | Command::Complete
            | Command::Decide
            | Command::LateAppeal
            | Command::Close => &[Role::CaseOfficer],
            Command::Deliver => &[Role::RegisterOwner, Role::CaseOfficer],
        }
    }
}

/// What the lifecycle needs to know about a case.
#[derive(Debug, Clone)]
pub struct Case {
    pub state: State,
    pub applicant_id: i64,
    pub assignee_id: Option<i64>,
    /// The last day to appeal the latest decision (an Oslo date; see `deadlines::appeal_deadline`).
    pub appeal_deadline: Option<NaiveDate>,
    /// The states of the case's releases, one per requested source.
    pub releases: Vec<ReleaseState>,
    /// Whether every approved release has been delivered.
    pub all_delivered: bool,
    /// The outcome of the last decision (what an upheld appeal returns to).
    pub previous_outcome: Option<State>,
    /// Whether an appeal was upheld and sent on to Helseklage (no second appeal here).
    pub sent_to_helseklage: bool,
    /// Whether Helseklage's outcome has been recorded.
    pub helseklage_answered: bool,
}

impl Case {
    /// Whether its decision refused something the applicant may appeal: a refusal or a partial
    /// approval, also once the granted part has been delivered (delivering it does not end the
    /// right to appeal the rest), and once the case was closed after the deadline: an appeal
    /// posted by the deadline is in time however late it arrives (forvaltningsloven § 30), and a
    /// late one may still be considered (§ 31). On a closed case the deadline has passed, so only
    /// an officer's registration of an appeal that came otherwise is allowed (`LateAppeal`).
    fn appealable(&self) -> bool {
        match self.state {
            State::Rejected | State::PartiallyApproved => true,
            State::Delivered | State::Closed => self.releases.contains(&ReleaseState::Rejected),
            _ => false,
        }
    }
}

/// Who gives the command.
#[derive(Debug, Clone, Copy)]
pub struct Actor {
    pub id: i64,
    pub role: Role,
}

/// Why a command is refused: not this actor's to give (403) or not now (409).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Refusal {
    Forbidden(&'static str),
    Conflict(&'static str),
}

/// The result of an allowed command: the new state and the event to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub to: State,
    pub event: &'static str,
}

fn go(to: State, event: &'static str) -> Result<Transition, Refusal> {
    Ok(Transition { to, event })
}

/// Whether an appeal sent on `sent_on` (the postmark, the e-mail's date: an Oslo date) came in
/// time for the decision whose last day to appeal is `deadline` (forvaltningsloven § 30: a
/// deadline is kept by an appeal handed to the post, or sent, before it runs out).
pub fn appeal_sent_in_time(deadline: Option<NaiveDate>, sent_on: NaiveDate) -> bool {
    deadline.is_some_and(|last| sent_on <= last)
}

/// Whether an appeal sent after its deadline may still be considered on `today`: not once more
/// than a year has passed since the decision was made (forvaltningsloven § 31 third paragraph;
/// an appeal sent in time is considered whenever it arrives, § 30).
pub fn late_appeal_considered(decided_on: Option<NaiveDate>, today: NaiveDate) -> bool {
    decided_on.is_none_or(|d| d.checked_add_months(chrono::Months::new(12)).is_none_or(|year| today <= year))
}

/// Decides whether `actor` may give `command` to `case` at `now`, and what follows.
pub fn apply(case: &Case, command: Command, actor: Actor, now: DateTime<Utc>) -> Result<Transition, Refusal> {
    use State::*;
    if !command.roles().contains(&actor.role) {
        return Err(Refusal::Forbidden("err-role-may-not"));
    }
    if matches!(command, Command::Submit | Command::Withdraw | Command::Appeal) && actor.id != case.applicant_id {
        return Err(Refusal::Forbidden("err-only-applicant"));
    }
    let not_now = Err(Refusal::Conflict("err-not-in-this-state"));
    match (command, case.state) {
        (Command::Submit, Draft | Returned) => go(Submitted, "application.submitted"),
        (Command::Withdraw, Draft | Submitted | Returned | InReview) => go(Withdrawn, "application.withdrawn"),
        (Command::Assign, Submitted | Returned | InReview | Appealed) => go(case.state, "application.assigned"),
        (Command::Return, Submitted) => go(Returned, "application.returned"),
        (Command::Complete, Submitted) => go(InReview, "application.completed"),
        (Command::Decide, InReview) => {
            let Some(to) = super::release::outcome(&case.releases) else {
                return Err(Refusal::Conflict("err-decide-releases-first"));
            };
            go(to, "application.decided")
        }
        (Command::Appeal | Command::LateAppeal, _) if case.appealable() && case.sent_to_helseklage => {
            Err(Refusal::Conflict("err-appeal-at-helseklage"))
        }
        // A case closes only once its refusal is final: the applicant's own appeal has passed its
        // deadline (one that came otherwise is an officer's to register, below).
        (Command::Appeal, Closed) if case.appealable() => Err(Refusal::Conflict("err-appeal-deadline-passed")),
        (Command::Appeal, _) if case.appealable() => match case.appeal_deadline {
            Some(last) if in_time(last, now) => go(Appealed, "application.appealed"),
            _ => Err(Refusal::Conflict("err-appeal-deadline-passed")),
        },
        // An appeal that reached Helsedataservice otherwise (a letter, an e-mail), registered by
        // an officer at any time, also after the case was closed (it reopens it): in time if it
        // was sent by the deadline (§ 30), else considered with a reason (§ 31); see
        // `appeal_sent_in_time`.
        (Command::LateAppeal, _) if case.appealable() => go(Appealed, "application.appealed"),
        (Command::Deliver, Approved | PartiallyApproved) if case.all_delivered => {
            go(Delivered, "application.delivered")
        }
        (Command::Deliver, Approved | PartiallyApproved) => Err(Refusal::Conflict("err-not-all-delivered")),
        // A refusal is final once the appeal deadline has passed or an appeal was upheld: a case
        // refused, or delivered with a source refused (what may be appealed), closes only then.
        (Command::Close, Rejected | Delivered) if case.appealable() => {
            let deadline_passed = case.appeal_deadline.is_some_and(|last| !in_time(last, now));
            if case.sent_to_helseklage && !case.helseklage_answered {
                Err(Refusal::Conflict("err-close-at-helseklage"))
            } else if deadline_passed || case.sent_to_helseklage {
                go(Closed, "application.closed")
            } else {
                Err(Refusal::Conflict("err-close-after-appeal-deadline"))
            }
        }
        (Command::Close, Delivered) => go(Closed, "application.closed"),
        _ => not_now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_withdrawn_or_closed_case_has_ended_and_no_work_is_recorded_on_it_or_a_draft() {
        for &s in State::ALL {
            assert_eq!(s.ended(), matches!(s, State::Withdrawn | State::Closed), "{s:?}");
            assert_eq!(records_work(s), !s.ended() && s != State::Draft, "{s:?}");
        }
    }

    fn case(state: State) -> Case {
        Case {
            state,
            applicant_id: 1,
            assignee_id: None,
            appeal_deadline: None,
            releases: vec![],
            all_delivered: false,
            previous_outcome: None,
            sent_to_helseklage: false,
            helseklage_answered: false,
        }
    }
    const APPLICANT: Actor = Actor { id: 1, role: Role::Applicant };
    const OTHER_APPLICANT: Actor = Actor { id: 2, role: Role::Applicant };
    const OFFICER: Actor = Actor { id: 3, role: Role::CaseOfficer };

    #[test]
    fn submit_and_withdraw() {
        let now = Utc::now();
        assert_eq!(apply(&case(State::Draft), Command::Submit, APPLICANT, now).unwrap().to, State::Submitted);
        assert_eq!(apply(&case(State::Returned), Command::Submit, APPLICANT, now).unwrap().to, State::Submitted);
        assert!(matches!(apply(&case(State::Submitted), Command::Submit, APPLICANT, now), Err(Refusal::Conflict(_))));
        assert!(matches!(
            apply(&case(State::Draft), Command::Submit, OTHER_APPLICANT, now),
            Err(Refusal::Forbidden(_))
        ));
        assert!(matches!(apply(&case(State::Draft), Command::Submit, OFFICER, now), Err(Refusal::Forbidden(_))));
        for s in [State::Draft, State::Submitted, State::Returned, State::InReview] {
            assert_eq!(apply(&case(s), Command::Withdraw, APPLICANT, now).unwrap().to, State::Withdrawn);
        }
        for s in [State::Approved, State::Rejected, State::Withdrawn, State::Closed] {
            assert!(matches!(apply(&case(s), Command::Withdraw, APPLICANT, now), Err(Refusal::Conflict(_))));
        }
    }

    #[test]
    fn decision_follows_the_releases() {
        let now = Utc::now();
        let mut c = case(State::InReview);
        assert!(matches!(apply(&c, Command::Decide, OFFICER, now), Err(Refusal::Conflict(_))));
        c.releases = vec![ReleaseState::Approved, ReleaseState::Pending];
        assert!(matches!(apply(&c, Command::Decide, OFFICER, now), Err(Refusal::Conflict(_))));
        c.releases = vec![ReleaseState::Approved, ReleaseState::Rejected];
        assert_eq!(apply(&c, Command::Decide, OFFICER, now).unwrap().to, State::PartiallyApproved);
        c.releases = vec![ReleaseState::Approved, ReleaseState::Approved];
        assert_eq!(apply(&c, Command::Decide, OFFICER, now).unwrap().to, State::Approved);
        c.releases = vec![ReleaseState::Rejected];
        assert_eq!(apply(&c, Command::Decide, OFFICER, now).unwrap().to, State::Rejected);
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn appeal_until_the_end_of_the_last_day() {
        // Decided at 10:00 on 2 March 2026: the last day is Monday 23 March.
        let mut c = case(State::Rejected);
        c.appeal_deadline =
            Some(super::super::deadlines::appeal_deadline(NaiveDate::from_ymd_opt(2026, 3, 2).unwrap()));
        assert_eq!(apply(&c, Command::Appeal, APPLICANT, at("2026-03-23T15:00:00+01:00")).unwrap().to, State::Appealed);
        assert_eq!(apply(&c, Command::Appeal, APPLICANT, at("2026-03-23T23:59:00+01:00")).unwrap().to, State::Appealed);
        let late = at("2026-03-24T00:00:00+01:00");
        assert_eq!(apply(&c, Command::Appeal, APPLICANT, late), Err(Refusal::Conflict("err-appeal-deadline-passed")));
        // An appeal that came by post or e-mail is registered by an officer, at any time: in time
        // if sent by the last day (§ 30), however late it arrives; after that, late (§ 31).
        assert_eq!(apply(&c, Command::LateAppeal, OFFICER, late).unwrap().to, State::Appealed);
        assert_eq!(
            apply(&c, Command::LateAppeal, OFFICER, at("2026-03-23T12:00:00+01:00")).unwrap().to,
            State::Appealed
        );
        assert!(matches!(apply(&c, Command::LateAppeal, APPLICANT, late), Err(Refusal::Forbidden(_))));
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 3, d).unwrap();
        assert!(appeal_sent_in_time(c.appeal_deadline, day(23)), "posted on the last day");
        assert!(!appeal_sent_in_time(c.appeal_deadline, day(24)));
        assert!(!appeal_sent_in_time(None, day(2)), "no decision, no deadline");
        // A late one is considered until a year after the decision (§ 31 third paragraph).
        let decided = day(2);
        let year = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert!(late_appeal_considered(Some(decided), year(2027, 3, 2)), "a year to the day");
        assert!(!late_appeal_considered(Some(decided), year(2027, 3, 3)));
        assert!(late_appeal_considered(Some(year(2024, 2, 29)), year(2025, 2, 28)), "from a leap day");
        assert!(!late_appeal_considered(Some(year(2024, 2, 29)), year(2025, 3, 1)));
    }

    #[test]
    fn a_rejection_closes_only_when_final_and_upheld_appeals_do_not_return() {
        let now = Utc::now();
        let today = super::super::deadlines::oslo_date(now);
        let mut c = case(State::Rejected);
        c.appeal_deadline = Some(today);
        assert!(matches!(apply(&c, Command::Close, OFFICER, now), Err(Refusal::Conflict(_))));
        c.appeal_deadline = today.pred_opt();
        assert_eq!(apply(&c, Command::Close, OFFICER, now).unwrap().to, State::Closed);
        c.appeal_deadline = Some(today);
        c.sent_to_helseklage = true;
        assert_eq!(
            apply(&c, Command::Close, OFFICER, now),
            Err(Refusal::Conflict("err-close-at-helseklage")),
            "not while Helseklage has the case"
        );
        c.helseklage_answered = true;
        assert_eq!(apply(&c, Command::Close, OFFICER, now).unwrap().to, State::Closed);
        assert!(matches!(apply(&c, Command::Appeal, APPLICANT, now), Err(Refusal::Conflict(_))));
    }

    /// An appeal posted by the deadline is in time however late it arrives (§ 30), and a late
    /// one may be considered (§ 31), also once the case was closed meanwhile: an officer
    /// registers it and the case is appealed again.
    #[test]
    fn a_closed_refusal_still_takes_an_appeal_that_came_by_post() {
        let now = Utc::now();
        let mut c = case(State::Closed);
        c.releases = vec![ReleaseState::Delivered, ReleaseState::Rejected];
        c.appeal_deadline = Some(super::super::deadlines::oslo_date(now) - chrono::Days::new(10));
        assert_eq!(apply(&c, Command::LateAppeal, OFFICER, now).unwrap().to, State::Appealed);
        assert_eq!(apply(&c, Command::Appeal, APPLICANT, now), Err(Refusal::Conflict("err-appeal-deadline-passed")));
        c.appeal_deadline = Some(super::super::deadlines::oslo_date(now) + chrono::Days::new(10));
        assert_eq!(
            apply(&c, Command::Appeal, APPLICANT, now),
            Err(Refusal::Conflict("err-appeal-deadline-passed")),
            "closed is final for the applicant, whatever the date says"
        );
        assert_eq!(apply(&c, Command::Close, OFFICER, now), Err(Refusal::Conflict("err-not-in-this-state")));
        c.sent_to_helseklage = true;
        c.helseklage_answered = true;
        assert_eq!(apply(&c, Command::LateAppeal, OFFICER, now), Err(Refusal::Conflict("err-appeal-at-helseklage")));
        // Nothing refused (or a withdrawal): nothing to appeal.
        let mut granted = case(State::Closed);
        granted.releases = vec![ReleaseState::Delivered];
        assert_eq!(apply(&granted, Command::LateAppeal, OFFICER, now), Err(Refusal::Conflict("err-not-in-this-state")));
        assert!(apply(&case(State::Withdrawn), Command::LateAppeal, OFFICER, now).is_err());
    }

    #[test]
    fn only_cases_waiting_for_a_decision_are_overdue() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
        let due = today.pred_opt();
        assert!(State::InReview.overdue(due, today));
        assert!(State::Submitted.overdue(due, today));
        assert!(!State::InReview.overdue(Some(today), today), "due today is not late");
        for s in [State::Withdrawn, State::Approved, State::Rejected, State::Delivered, State::Closed, State::Draft] {
            assert!(!s.overdue(due, today), "{s:?}");
        }
    }

    #[test]
    fn every_command_from_every_state_is_answered() {
        let now = Utc::now();
        for &s in State::ALL {
            for &cmd in Command::ALL {
                for role in Role::ALL {
                    let actor = Actor { id: if role == Role::Applicant { 1 } else { 9 }, role };
                    let r = apply(&case(s), cmd, actor, now);
                    if !cmd.roles().contains(&role) {
                        assert!(matches!(r, Err(Refusal::Forbidden(_))), "{s:?} {cmd:?} {role:?}");
                    }
                }
            }
        }
    }

    /// Delivering the granted part of a partial approval does not end the right to appeal the
    /// refused part (forvaltningsloven § 28), and the case closes only once that refusal is final.
    #[test]
    fn a_delivered_case_with_a_refused_source_is_appealed_and_closed_as_a_refusal() {
        let mut c = case(State::Delivered);
        c.releases = vec![ReleaseState::Delivered, ReleaseState::Rejected];
        c.appeal_deadline = Some(NaiveDate::from_ymd_opt(2026, 3, 23).unwrap());
        let (within, after) = (at("2026-03-20T12:00:00+01:00"), at("2026-03-24T12:00:00+01:00"));
        assert_eq!(apply(&c, Command::Appeal, APPLICANT, within).unwrap().to, State::Appealed);
        assert_eq!(apply(&c, Command::Appeal, APPLICANT, after), Err(Refusal::Conflict("err-appeal-deadline-passed")));
        assert_eq!(apply(&c, Command::LateAppeal, OFFICER, after).unwrap().to, State::Appealed);
        assert_eq!(
            apply(&c, Command::Close, OFFICER, within),
            Err(Refusal::Conflict("err-close-after-appeal-deadline"))
        );
        assert_eq!(apply(&c, Command::Close, OFFICER, after).unwrap().to, State::Closed);
        c.sent_to_helseklage = true;
        assert_eq!(apply(&c, Command::Appeal, APPLICANT, within), Err(Refusal::Conflict("err-appeal-at-helseklage")));
        assert_eq!(apply(&c, Command::Close, OFFICER, after), Err(Refusal::Conflict("err-close-at-helseklage")));
        // Everything granted and delivered: nothing to appeal, and it closes at once.
        let mut all = case(State::Delivered);
        all.releases = vec![ReleaseState::Delivered];
        assert_eq!(apply(&all, Command::Appeal, APPLICANT, within), Err(Refusal::Conflict("err-not-in-this-state")));
        assert_eq!(apply(&all, Command::Close, OFFICER, within).unwrap().to, State::Closed);
    }
}
