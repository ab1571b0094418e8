//! Pre-application enquiries (forhåndsveiledning): a researcher asks about data sources before
//! applying; the case officers, and the register owners of the sources named, answer in a
//! thread; the researcher can turn the enquiry into a draft application with its sources filled
//! in, and either side can close it.

use super::fields::FieldErrors;

/// Longest subject.
pub const MAX_SUBJECT: usize = 200;
/// Longest message.
pub const MAX_MESSAGE: usize = 10_000;
/// Most sources one enquiry names.
pub const MAX_SOURCES: usize = 20;

/// Where an enquiry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Waiting for an answer from Helsedataservice or a register owner.
    Open,
    /// Answered: the researcher's turn (to reply, apply or close).
    Answered,
    /// Closed: read only.
    Closed,
}

impl State {
    pub const ALL: [State; 3] = [State::Open, State::Answered, State::Closed];

    pub fn code(self) -> &'static str {
        match self {
            State::Open => "open",
            State::Answered => "answered",
            State::Closed => "closed",
        }
    }

    pub fn from_code(code: &str) -> Option<State> {
        State::ALL.into_iter().find(|s| s.code() == code)
    }
}

/// How a person relates to an enquiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// The researcher who asked.
    Asker,
    /// A case officer (every enquiry).
    Officer,
    /// A register owner of a source the enquiry names.
    Owner,
}

impl Reader {
    /// Whether the reader answers for the service (officers and owners).
    pub fn answers(self) -> bool {
        matches!(self, Reader::Officer | Reader::Owner)
    }
}

/// A refusal, as a message key.
pub type Refusal = &'static str;

/// Whether `reader` may write in the thread: anyone in it, until it is closed.
pub fn may_post(state: State) -> Result<(), Refusal> {
    if state == State::Closed { Err("err-enquiry-closed") } else { Ok(()) }
}

/// The state after a message: an answer hands the turn to the researcher, a researcher's
/// message asks again.
pub fn after_message(reader: Reader) -> State {
    if reader.answers() { State::Answered } else { State::Open }
}

/// Whether `reader` may close the enquiry: the researcher or an officer, while it is not closed.
pub fn may_close(reader: Reader, state: State) -> Result<(), Refusal> {
    if !matches!(reader, Reader::Asker | Reader::Officer) {
        return Err("err-enquiry-close-who");
    }
    if state == State::Closed { Err("err-enquiry-closed") } else { Ok(()) }
}

/// Whether `reader` may turn the enquiry into a draft application: only the researcher, once.
pub fn may_apply(reader: Reader, converted: bool) -> Result<(), Refusal> {
    if reader != Reader::Asker {
        return Err("err-enquiry-apply-who");
    }
    if converted { Err("err-enquiry-applied") } else { Ok(()) }
}

/// Checks a new enquiry's subject, question and sources; returns the subject and question
/// trimmed and the sources without repeats, in the order given.
pub fn check_new(
    subject: &str,
    question: &str,
    sources: &[i64],
    errors: &mut FieldErrors,
) -> (String, String, Vec<i64>) {
    let subject = errors.text("subject", subject, 1, MAX_SUBJECT);
    let question = errors.text("question", question, 1, MAX_MESSAGE);
    let mut unique: Vec<i64> = Vec::new();
    for id in sources {
        if !unique.contains(id) {
            unique.push(*id);
        }
    }
    if unique.len() > MAX_SOURCES {
        errors.add_n("source_ids", "err-too-many", MAX_SOURCES as i64);
    }
    (subject, question, unique)
}

/// Checks a message; returns it trimmed.
pub fn check_message(body: &str, errors: &mut FieldErrors) -> String {
    errors.text("body", body, 1, MAX_MESSAGE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_turn_passes_between_researcher_and_service() {
        assert_eq!(after_message(Reader::Officer), State::Answered);
        assert_eq!(after_message(Reader::Owner), State::Answered);
        assert_eq!(after_message(Reader::Asker), State::Open);
        assert!(may_post(State::Open).is_ok() && may_post(State::Answered).is_ok());
        assert_eq!(may_post(State::Closed), Err("err-enquiry-closed"));
    }

    #[test]
    fn who_closes_and_who_applies() {
        assert!(may_close(Reader::Asker, State::Answered).is_ok());
        assert!(may_close(Reader::Officer, State::Open).is_ok());
        assert_eq!(may_close(Reader::Owner, State::Open), Err("err-enquiry-close-who"));
        assert_eq!(may_close(Reader::Asker, State::Closed), Err("err-enquiry-closed"));
        assert!(may_apply(Reader::Asker, false).is_ok());
        assert_eq!(may_apply(Reader::Asker, true), Err("err-enquiry-applied"));
        assert_eq!(may_apply(Reader::Officer, false), Err("err-enquiry-apply-who"));
        for s in State::ALL {
            assert_eq!(State::from_code(s.code()), Some(s));
        }
    }

    #[test]
    fn a_new_enquiry_needs_a_subject_and_a_question() {
        let mut e = FieldErrors::new();
        let (s, q, ids) = check_new(" Hjertedata ", " Finnes EF? ", &[3, 3, 5], &mut e);
        assert!(e.is_empty());
        assert_eq!((s.as_str(), q.as_str(), ids), ("Hjertedata", "Finnes EF?", vec![3, 5]));
        let mut e = FieldErrors::new();
        check_new("", "", &(0..30).collect::<Vec<_>>(), &mut e);
        let keys: Vec<&str> = e.0.keys().map(String::as_str).collect();
        assert_eq!(keys, ["question", "source_ids", "subject"]);
    }
}
