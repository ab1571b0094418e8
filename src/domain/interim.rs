//! The interim reply (foreløpig svar, forvaltningsloven § 11 a): when a case is not answered
//! within a month, the applicant is told why it takes longer and when an answer can be expected.
//! Not while the case waits on the applicant (returned for changes); an appeal that takes longer
//! than a month gets its own.

use super::case::State;
use super::deadlines;
use chrono::{DateTime, Duration, NaiveDate, Utc};

/// Which interim reply is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InterimReply {
    /// The application has waited a month since it was first submitted.
    Application,
    /// The appeal has waited a month since it was lodged.
    Appeal,
}

/// What the rule needs to know about a case.
#[derive(Debug, Clone, Default)]
pub struct InterimFacts {
    pub state: Option<State>,
    pub first_submitted_at: Option<DateTime<Utc>>,
    pub interim_reply_at: Option<DateTime<Utc>>,
    pub appealed_at: Option<DateTime<Utc>>,
    pub appeal_interim_reply_at: Option<DateTime<Utc>>,
}

/// How long a case or an appeal may wait before an interim reply is due.
pub fn waited_too_long() -> Duration {
    Duration::days(30)
}

/// The interim reply due for a case at `now`, if any.
pub fn due(facts: &InterimFacts, now: DateTime<Utc>) -> Option<InterimReply> {
    let waited = |since: Option<DateTime<Utc>>| since.is_some_and(|at| at <= now - waited_too_long());
    match facts.state? {
        State::Submitted | State::InReview if facts.interim_reply_at.is_none() && waited(facts.first_submitted_at) => {
            Some(InterimReply::Application)
        }
        State::Appealed if facts.appeal_interim_reply_at.is_none() && waited(facts.appealed_at) => {
            Some(InterimReply::Appeal)
        }
        // Returned: the case waits on the applicant, who is told what to do instead.
        _ => None,
    }
}

/// Why the case takes longer, as the reply says it (a selector of the notice's text).
pub fn reason(reply: InterimReply, state: State, owners_deciding: bool) -> &'static str {
    match (reply, state) {
        (InterimReply::Appeal, _) => "appeal",
        (_, State::Submitted) => "queue",
        (_, _) if owners_deciding => "owners",
        _ => "assessment",
    }
}

/// When an answer can be expected, for the application and for an appeal alike: the case's due
/// date (an appeal's own, set when it came in: `deadlines::appeal_due_date`) while it is ahead;
/// otherwise a month of working days from today, Oslo time.
pub fn expected_by(due_date: Option<NaiveDate>, now: DateTime<Utc>) -> NaiveDate {
    match due_date {
        Some(date) if date > deadlines::oslo_date(now) => date,
        _ => deadlines::add_working_days(deadlines::oslo_date(now), 21),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(state: State, submitted_days_ago: i64) -> InterimFacts {
        InterimFacts {
            state: Some(state),
            first_submitted_at: Some(Utc::now() - Duration::days(submitted_days_ago)),
            ..InterimFacts::default()
        }
    }

    #[test]
    fn a_month_after_submission_once_and_never_while_returned() {
        let now = Utc::now();
        assert_eq!(due(&facts(State::Submitted, 29), now), None);
        assert_eq!(due(&facts(State::Submitted, 31), now), Some(InterimReply::Application));
        assert_eq!(due(&facts(State::InReview, 31), now), Some(InterimReply::Application));
        assert_eq!(due(&facts(State::Returned, 31), now), None, "the case waits on the applicant");
        assert_eq!(due(&facts(State::Approved, 31), now), None);
        assert_eq!(due(&facts(State::Withdrawn, 31), now), None);
        let mut sent = facts(State::InReview, 60);
        sent.interim_reply_at = Some(now - Duration::days(20));
        assert_eq!(due(&sent, now), None, "once");
    }

    #[test]
    fn an_appeal_waiting_a_month_gets_its_own() {
        let now = Utc::now();
        let mut f = facts(State::Appealed, 120);
        f.interim_reply_at = Some(now - Duration::days(80));
        f.appealed_at = Some(now - Duration::days(10));
        assert_eq!(due(&f, now), None);
        f.appealed_at = Some(now - Duration::days(31));
        assert_eq!(due(&f, now), Some(InterimReply::Appeal));
        f.appeal_interim_reply_at = Some(now);
        assert_eq!(due(&f, now), None);
    }

    #[test]
    fn the_reply_says_why_and_by_when() {
        assert_eq!(reason(InterimReply::Application, State::Submitted, false), "queue");
        assert_eq!(reason(InterimReply::Application, State::InReview, true), "owners");
        assert_eq!(reason(InterimReply::Application, State::InReview, false), "assessment");
        assert_eq!(reason(InterimReply::Appeal, State::Appealed, true), "appeal");
        let now = Utc::now();
        let later = deadlines::oslo_date(now) + chrono::Days::new(40);
        assert_eq!(expected_by(Some(later), now), later);
        let passed = deadlines::oslo_date(now) - chrono::Days::new(1);
        let fallback = expected_by(Some(passed), now);
        assert!(fallback > deadlines::oslo_date(now) && deadlines::is_working_day(fallback));
        // An appeal's reply names the appeal's own due date (the case's due date once appealed),
        // as the case page and inbox do.
        assert_eq!(expected_by(Some(later), now), later);
        assert_eq!(expected_by(Some(passed), now), fallback);
    }
}
