//! The outbox of mails and webhook deliveries: each message is pending until sent, or dead once
//! its attempts are used up (an operator may retry it).

super::catalogue::code_enum! {
    /// The states of an outbox message.
    OutboxState {
        Pending => "pending",
        Sent => "sent",
        Dead => "dead",
    }
}
