//! Statements (uttalelser): before deciding, a case officer asks a register owner or an outside
//! expert for a statement on a case, with a question and a due date. The reviewer sees only that
//! case, answers once, and the statement joins the case file and its timeline. Reviewers are
//! reminded before the due date; officers see which statements are outstanding.

use super::access::Access;
use super::case::State;
use super::fields::FieldErrors;
use super::role::Role;
use chrono::{Duration, NaiveDate};

/// Longest question.
pub const MAX_QUESTION: usize = 4000;
/// Longest answer.
pub const MAX_ANSWER: usize = 20_000;
/// Latest due date, counted from the request.
pub const MAX_DAYS: i64 = 180;
/// Days before the due date that the reviewer is reminded (once).
pub const REMIND_DAYS: i64 = 3;
/// How long the invitation link of an address without a confirmed account works.
pub const INVITATION_DAYS: i64 = 30;

/// Longest reason for withholding a statement from the applicant.
pub const MAX_WITHHELD_REASON: usize = 2000;

/// Whether `access` may change what the applicant's side (the applicant and the members) reads
/// of a case's statements: its case officers. A statement is a document of the case the party
/// may read (forvaltningsloven § 18), and what the service learns from others before deciding is
/// shown to the party, who may comment on it (§ 17 second paragraph): all of it, unless a case
/// officer withholds it with a reason (§§ 18 a–19: another person's personal matters, business
/// secrets, security), which the applicant is shown with who gave it. One withheld without a
/// reason was given before applicants could read statements, on other terms, and waits for an
/// officer to share it or say why not.
pub fn may_set_party_access(access: Access) -> bool {
    access == Access::CaseOfficer
}

/// Days the applicant's side is given to comment on a statement once they can read its answer.
pub const COMMENT_DAYS: u64 = 14;

/// The last day for the applicant's side to comment on a statement whose answer they could read
/// from `shared_on` (forvaltningsloven § 17 second paragraph: the party is told what the service
/// learned from others and may comment on it before the decision): two weeks, moved past a
/// weekend or public holiday. Nothing stops the decision; the officer is told on the decision's
/// preview while a period runs.
pub fn comment_by(shared_on: NaiveDate) -> NaiveDate {
    super::deadlines::next_working_day(shared_on + chrono::Days::new(COMMENT_DAYS))
}

/// The comment period of a statement, if it has one: answered and read by the applicant's side
/// (not withheld) since `shared_on`.
pub fn comment_period(answered: bool, withheld: bool, shared_on: Option<NaiveDate>) -> Option<NaiveDate> {
    (answered && !withheld).then_some(shared_on).flatten().map(comment_by)
}

/// Checks the reason an officer gives for withholding a statement; returns it trimmed.
pub fn check_withheld_reason(reason: &str, errors: &mut FieldErrors) -> String {
    errors.text("reason", reason, 1, MAX_WITHHELD_REASON)
}

/// Whether a case is at a stage where statements are asked for: after submission, before the
/// decision (and again while an appeal is reconsidered).
pub fn may_request(role: Role, state: State) -> bool {
    role == Role::CaseOfficer && matches!(state, State::Submitted | State::InReview | State::Appealed)
}

/// Whether a request still waits for its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Asked, not answered.
    Open,
    Answered,
    /// Not answered when its case ended (withdrawn or closed): nobody needs it any more.
    Lapsed,
}

impl Progress {
    pub fn of(answered: bool, lapsed: bool) -> Progress {
        match (answered, lapsed) {
            (true, _) => Progress::Answered,
            (false, true) => Progress::Lapsed,
            (false, false) => Progress::Open,
        }
    }
}

/// Whether the reviewer may still answer: not answered yet, and its case not ended. A late
/// answer is still welcome (the officer sees it is late), and so is one after the case moved on
/// to its decision, which may be appealed.
pub fn may_answer(is_reviewer: bool, progress: Progress) -> bool {
    is_reviewer && progress == Progress::Open
}

/// Where a statement stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Asked, not answered, due date not passed.
    Outstanding,
    /// Asked, not answered, past its due date.
    Overdue,
    Answered,
    /// Not answered when its case ended.
    Lapsed,
}

impl Status {
    pub fn of(due_on: NaiveDate, progress: Progress, today: NaiveDate) -> Status {
        match (progress, today > due_on) {
            (Progress::Answered, _) => Status::Answered,
            (Progress::Lapsed, _) => Status::Lapsed,
            (Progress::Open, true) => Status::Overdue,
            (Progress::Open, false) => Status::Outstanding,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Status::Outstanding => "outstanding",
            Status::Overdue => "overdue",
            Status::Answered => "answered",
            Status::Lapsed => "lapsed",
        }
    }
}

/// Whether the reviewer is reminded today: unanswered, not reminded before, the due date at
/// most [`REMIND_DAYS`] away (and not passed: an overdue statement shows on the officer's side).
pub fn reminder_due(due_on: NaiveDate, progress: Progress, reminded: bool, today: NaiveDate) -> bool {
    progress == Progress::Open && !reminded && today <= due_on && due_on - today <= Duration::days(REMIND_DAYS)
}

/// Checks a request's question and due date (the address is checked by `email::Email`);
/// returns the question trimmed.
pub fn check_request(question: &str, due_on: Option<NaiveDate>, today: NaiveDate, errors: &mut FieldErrors) -> String {
    let question = errors.text("question", question, 1, MAX_QUESTION);
    match due_on {
        None => errors.add("due_on", "err-required"),
        Some(d) if d <= today => errors.add("due_on", "err-due-in-future"),
        Some(d) if d - today > Duration::days(MAX_DAYS) => errors.add_n("due_on", "err-due-too-far", MAX_DAYS),
        Some(_) => {}
    }
    question
}

/// Checks an answer; returns it trimmed.
pub fn check_answer(answer: &str, errors: &mut FieldErrors) -> String {
    errors.text("answer", answer, 1, MAX_ANSWER)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).unwrap()
    }

    #[test]
    fn officers_ask_before_the_decision() {
        for state in State::ALL {
            let open = matches!(state, State::Submitted | State::InReview | State::Appealed);
            assert_eq!(may_request(Role::CaseOfficer, *state), open, "{state:?}");
            for role in [Role::Applicant, Role::RegisterOwner, Role::Admin, Role::Reviewer] {
                assert!(!may_request(role, *state), "{role:?} in {state:?}");
            }
        }
    }

    #[test]
    fn the_applicant_has_two_weeks_to_comment_on_what_they_can_read() {
        // Shared on Wednesday 2 December 2026: two weeks later is Wednesday 16 December.
        let shared = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
        assert_eq!(comment_by(shared), NaiveDate::from_ymd_opt(2026, 12, 16).unwrap());
        // Two weeks from 11 December end on Christmas Day: moved to Monday 28 December.
        let before_christmas = NaiveDate::from_ymd_opt(2026, 12, 11).unwrap();
        assert_eq!(comment_by(before_christmas), NaiveDate::from_ymd_opt(2026, 12, 28).unwrap());
        assert_eq!(comment_period(true, false, Some(shared)), Some(comment_by(shared)));
        assert_eq!(comment_period(true, true, Some(shared)), None, "withheld: nothing to comment on");
        assert_eq!(comment_period(false, false, Some(shared)), None, "no answer yet");
        assert_eq!(comment_period(true, false, None), None);
    }

    #[test]
    fn the_reviewer_answers_once() {
        assert!(may_answer(true, Progress::Open));
        assert!(!may_answer(true, Progress::Answered), "answered");
        assert!(!may_answer(true, Progress::Lapsed), "its case ended");
        assert!(!may_answer(false, Progress::Open), "not the reviewer");
        assert_eq!(Progress::of(true, true), Progress::Answered, "an answer given stays");
        assert_eq!(Progress::of(false, true), Progress::Lapsed);
    }

    #[test]
    fn status_and_reminder_follow_the_due_date() {
        use Progress::{Answered, Lapsed, Open};
        assert_eq!(Status::of(day(10), Open, day(10)), Status::Outstanding, "the due date is inside");
        assert_eq!(Status::of(day(10), Open, day(11)), Status::Overdue);
        assert_eq!(Status::of(day(10), Answered, day(11)), Status::Answered);
        assert_eq!(Status::of(day(10), Lapsed, day(9)), Status::Lapsed);
        assert!(!reminder_due(day(10), Open, false, day(6)), "four days before");
        assert!(reminder_due(day(10), Open, false, day(7)), "three days before");
        assert!(reminder_due(day(10), Open, false, day(10)), "on the day");
        assert!(!reminder_due(day(10), Open, false, day(11)), "overdue");
        assert!(!reminder_due(day(10), Open, true, day(8)), "reminded");
        assert!(!reminder_due(day(10), Answered, false, day(8)), "answered");
        assert!(!reminder_due(day(10), Lapsed, false, day(8)), "its case ended");
    }

    #[test]
    fn a_request_needs_a_question_and_a_due_date_ahead() {
        let check = |q: &str, due: Option<NaiveDate>| {
            let mut e = FieldErrors::new();
            check_request(q, due, day(6), &mut e);
            let mut keys: Vec<String> = e.0.keys().cloned().collect();
            keys.sort();
            keys
        };
        assert!(check("Er utvalget forsvarlig?", Some(day(20))).is_empty());
        assert_eq!(check("", Some(day(20))), ["question"]);
        assert_eq!(check("Q", None), ["due_on"]);
        assert_eq!(check("Q", Some(day(6))), ["due_on"], "today is not ahead");
        assert_eq!(check("Q", Some(day(6) + Duration::days(MAX_DAYS + 1))), ["due_on"]);
        let mut e = FieldErrors::new();
        check_answer("", &mut e);
        assert!(e.0.contains_key("answer"));
    }
}
