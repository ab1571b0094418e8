// Diesel table definitions, kept in step with `migrations/` (checked by the
// integration tests, which run every query against the migrated schema).

diesel::table! {
    organisations (id) {
        id -> Int8,
        name -> Text,
        name_en -> Nullable<Text>,
        organisation_number -> Text,
        is_hds -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Int4,
        postal_address -> Text,
        postal_code -> Text,
        city -> Text,
        bank_account -> Nullable<Text>,
    }
}

diesel::table! {
    users (id) {
        id -> Int8,
        email -> Text,
        name -> Text,
        password_hash -> Nullable<Text>,
        role -> Text,
        organisation_id -> Nullable<Int8>,
        language -> Text,
        active -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Int4,
        mail_preference -> Text,
        last_digest_at -> Nullable<Timestamptz>,
        email_verified_at -> Nullable<Timestamptz>,
        verify_token_hash -> Nullable<Text>,
        verify_expires_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    sessions (id) {
        id -> Int8,
        token_hash -> Text,
        user_id -> Int8,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        address -> Nullable<Text>,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> Int8,
        token_hash -> Text,
        user_id -> Int8,
        name -> Text,
        scope -> Text,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
        last_used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    login_attempts (id) {
        id -> Int8,
        email -> Text,
        address -> Text,
        succeeded -> Bool,
        at -> Timestamptz,
    }
}

diesel::table! {
    data_sources (id) {
        id -> Int8,
        code -> Text,
        name_nb -> Text,
        name_en -> Text,
        kind -> Text,
        owner_id -> Int8,
        decision_authority -> Text,
        on_common_form -> Bool,
        description_nb -> Text,
        description_en -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Int4,
    }
}

diesel::table! {
    variables (id) {
        id -> Int8,
        data_source_id -> Int8,
        name -> Text,
        description_nb -> Text,
        description_en -> Text,
        identifying -> Text,
    }
}

diesel::table! {
    events (id) {
        id -> Int8,
        at -> Timestamptz,
        actor_id -> Nullable<Int8>,
        address -> Nullable<Text>,
        subject_type -> Text,
        subject_id -> Nullable<Int8>,
        kind -> Text,
        payload -> Jsonb,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    audit_checks (id) {
        id -> Int8,
        checked_at -> Timestamptz,
        events_checked -> Int8,
        first_broken -> Nullable<Int8>,
        requested_by -> Nullable<Int8>,
    }
}

diesel::joinable!(users -> organisations (organisation_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(api_tokens -> users (user_id));
diesel::joinable!(data_sources -> organisations (owner_id));
diesel::joinable!(variables -> data_sources (data_source_id));

diesel::table! {
    applications (id) {
        id -> Int8,
        applicant_id -> Int8,
        reference -> Nullable<Text>,
        state -> Text,
        kind -> Text,
        application_type -> Text,
        title -> Text,
        form -> Jsonb,
        version -> Int4,
        assignee_id -> Nullable<Int8>,
        copied_from_id -> Nullable<Int8>,
        submit_count -> Int4,
        estimate_ore -> Nullable<Int8>,
        estimate_accepted_at -> Nullable<Timestamptz>,
        due_date -> Nullable<Date>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        first_submitted_at -> Nullable<Timestamptz>,
        submitted_at -> Nullable<Timestamptz>,
        completed_at -> Nullable<Timestamptz>,
        decided_at -> Nullable<Timestamptz>,
        delivered_at -> Nullable<Timestamptz>,
        closed_at -> Nullable<Timestamptz>,
        appeal_grounds -> Nullable<Text>,
        sent_to_helseklage_at -> Nullable<Timestamptz>,
        interim_reply_at -> Nullable<Timestamptz>,
        deletion_reminded_at -> Nullable<Timestamptz>,
        deletion_confirmed_at -> Nullable<Timestamptz>,
        appealed_at -> Nullable<Timestamptz>,
        appeal_interim_reply_at -> Nullable<Timestamptz>,
        complete_submitted_at -> Nullable<Timestamptz>,
        permit_ends_on -> Nullable<Date>,
    }
}

diesel::table! {
    helseklage_outcomes (application_id) {
        application_id -> Int8,
        outcome -> Text,
        decided_on -> Date,
        reference -> Text,
        recorded_by -> Int8,
        recorded_at -> Timestamptz,
    }
}

diesel::table! {
    releases (id) {
        id -> Int8,
        application_id -> Int8,
        data_source_id -> Int8,
        decider -> Text,
        owner_organisation_id -> Int8,
        state -> Text,
        conditions -> Text,
        reasons -> Text,
        decided_by -> Nullable<Int8>,
        decided_at -> Nullable<Timestamptz>,
        delivered_by -> Nullable<Int8>,
        delivered_at -> Nullable<Timestamptz>,
        environment -> Nullable<Text>,
        created_at -> Timestamptz,
        version -> Int4,
        reminded_at -> Nullable<Timestamptz>,
        reconsideration -> Nullable<Text>,
        reconsidered_by -> Nullable<Int8>,
        reconsidered_at -> Nullable<Timestamptz>,
        dispensation -> Bool,
    }
}

diesel::table! {
    decisions (id) {
        id -> Int8,
        application_id -> Int8,
        outcome -> Text,
        reasons -> Text,
        language -> Text,
        letter_html -> Text,
        decided_by -> Int8,
        decided_at -> Timestamptz,
        appeal_deadline -> Date,
    }
}

diesel::table! {
    application_members (application_id, email) {
        application_id -> Int8,
        email -> Text,
    }
}

diesel::table! {
    application_sources (application_id, data_source_id) {
        application_id -> Int8,
        data_source_id -> Int8,
    }
}

diesel::table! {
    reference_counters (year) {
        year -> Int4,
        last -> Int4,
    }
}

diesel::table! {
    attachments (id) {
        id -> Uuid,
        application_id -> Int8,
        kind -> Text,
        name -> Text,
        content_type -> Text,
        size -> Int8,
        sha256 -> Text,
        storage_key -> Text,
        uploaded_by -> Int8,
        created_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    messages (id) {
        id -> Int8,
        application_id -> Int8,
        author_id -> Int8,
        internal -> Bool,
        body -> Text,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(application_members -> applications (application_id));
diesel::joinable!(application_sources -> applications (application_id));
diesel::joinable!(application_sources -> data_sources (data_source_id));
diesel::joinable!(attachments -> applications (application_id));
diesel::joinable!(messages -> applications (application_id));
diesel::joinable!(messages -> users (author_id));
diesel::joinable!(releases -> applications (application_id));
diesel::joinable!(releases -> data_sources (data_source_id));
diesel::joinable!(releases -> organisations (owner_organisation_id));
diesel::joinable!(decisions -> applications (application_id));

// User payment (migration 2026-11-23-000005_pricing).
diesel::table! {
    price_lists (id) {
        id -> Int8,
        organisation_id -> Int8,
        valid_from -> Date,
        state -> Text,
        note_nb -> Text,
        note_en -> Text,
        created_by -> Nullable<Int8>,
        created_at -> Timestamptz,
        published_by -> Nullable<Int8>,
        published_at -> Nullable<Timestamptz>,
        version -> Int4,
    }
}

diesel::table! {
    price_items (id) {
        id -> Int8,
        price_list_id -> Int8,
        code -> Text,
        description_nb -> Text,
        description_en -> Text,
        unit -> Text,
        amount_ore -> Int8,
        minimum_quantity -> Int4,
        exempt_kinds -> Array<Text>,
        data_source_code -> Nullable<Text>,
        requires_hds_authority -> Bool,
    }
}

diesel::table! {
    estimates (id) {
        id -> Int8,
        application_id -> Int8,
        organisation_id -> Int8,
        minutes -> Int4,
        lines -> Jsonb,
        total_ore -> Int8,
        message -> Text,
        created_by -> Int8,
        created_at -> Timestamptz,
        accepted_by -> Nullable<Int8>,
        accepted_at -> Nullable<Timestamptz>,
        superseded_at -> Nullable<Timestamptz>,
        lapsed_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    time_records (id) {
        id -> Int8,
        application_id -> Int8,
        organisation_id -> Int8,
        user_id -> Int8,
        minutes -> Int4,
        note -> Text,
        exempt -> Nullable<Text>,
        recorded_at -> Timestamptz,
    }
}

diesel::table! {
    invoices (id) {
        id -> Int8,
        application_id -> Int8,
        organisation_id -> Int8,
        number -> Text,
        status -> Text,
        recipient_name -> Text,
        recipient_organisation_number -> Text,
        recipient_reference -> Text,
        net_ore -> Int8,
        vat_rate_bp -> Int4,
        vat_ore -> Int8,
        total_ore -> Int8,
        waived_reason -> Nullable<Text>,
        created_at -> Timestamptz,
        issued_at -> Nullable<Timestamptz>,
        paid_at -> Nullable<Timestamptz>,
        waived_at -> Nullable<Timestamptz>,
        version -> Int4,
        recipient_address -> Text,
        recipient_postal_code -> Text,
        recipient_city -> Text,
    }
}

diesel::table! {
    invoice_lines (id) {
        id -> Int8,
        invoice_id -> Int8,
        position -> Int4,
        price_list_id -> Nullable<Int8>,
        item_code -> Text,
        description_nb -> Text,
        description_en -> Text,
        unit -> Text,
        quantity -> Int8,
        unit_ore -> Int8,
        amount_ore -> Int8,
        exempt -> Nullable<Text>,
    }
}

diesel::joinable!(price_lists -> organisations (organisation_id));
diesel::joinable!(price_items -> price_lists (price_list_id));
diesel::joinable!(estimates -> applications (application_id));
diesel::joinable!(estimates -> organisations (organisation_id));
diesel::joinable!(time_records -> applications (application_id));
diesel::joinable!(time_records -> organisations (organisation_id));
diesel::joinable!(time_records -> users (user_id));
diesel::joinable!(invoices -> applications (application_id));
diesel::joinable!(invoices -> organisations (organisation_id));
diesel::joinable!(invoice_lines -> invoices (invoice_id));

// ---- transfers (issue 6) ----
diesel::table! {
    transfers (id) {
        id -> Int8,
        release_id -> Int8,
        application_id -> Int8,
        recipient_organisation_id -> Nullable<Int8>,
        created_by -> Int8,
        state -> Text,
        expires_at -> Timestamptz,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        published_at -> Nullable<Timestamptz>,
        downloaded_at -> Nullable<Timestamptz>,
        expired_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
        revoked_by -> Nullable<Int8>,
        expiry_warned_at -> Nullable<Timestamptz>,
        version -> Int4,
        sender_organisation_id -> Int8,
        linked_from -> Nullable<Int8>,
    }
}

diesel::table! {
    upload_sessions (file_id) {
        file_id -> Int8,
        length -> Int8,
        received -> Int8,
        hash_state -> Bytea,
        expected_sha256 -> Nullable<Text>,
        touched_at -> Timestamptz,
        writing_until -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    transfer_files (id) {
        id -> Int8,
        transfer_id -> Int8,
        name -> Text,
        size -> Int8,
        sha256 -> Text,
        storage_key -> Text,
        complete -> Bool,
        uploaded_by -> Int8,
        created_at -> Timestamptz,
        completed_at -> Nullable<Timestamptz>,
        bytes_deleted_at -> Nullable<Timestamptz>,
        heartbeat_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    transfer_receipts (id) {
        id -> Int8,
        transfer_file_id -> Int8,
        user_id -> Int8,
        at -> Timestamptz,
        bytes -> Int8,
        sha256 -> Text,
        address -> Nullable<Text>,
    }
}

diesel::joinable!(transfers -> releases (release_id));
diesel::joinable!(transfers -> applications (application_id));
diesel::joinable!(transfer_files -> transfers (transfer_id));
diesel::joinable!(upload_sessions -> transfer_files (file_id));
diesel::joinable!(transfer_receipts -> transfer_files (transfer_file_id));
diesel::joinable!(transfer_receipts -> users (user_id));
// ---- end transfers ----

diesel::table! {
    identity_confirmations (id) {
        id -> Int8,
        token_hash -> Text,
        provider -> Text,
        issuer -> Text,
        subject -> Text,
        name -> Nullable<Text>,
        email -> Nullable<Text>,
        code_hash -> Nullable<Text>,
        codes_sent -> Int4,
        attempts -> Int4,
        next -> Text,
        expires_at -> Timestamptz,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    reregistrations (id) {
        id -> Int8,
        user_id -> Int8,
        name -> Text,
        password_hash -> Text,
        token_hash -> Text,
        expires_at -> Timestamptz,
        created_at -> Timestamptz,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    reregistrations,
    identity_confirmations,
    helseklage_outcomes,
    audit_checks,
    organisations,
    users,
    sessions,
    api_tokens,
    login_attempts,
    data_sources,
    variables,
    events,
    applications,
    application_members,
    application_sources,
    reference_counters,
    attachments,
    messages,
    releases,
    decisions,
    notifications,
    outbox,
    price_lists,
    price_items,
    estimates,
    time_records,
    invoices,
    invoice_lines,
    transfers,
    transfer_files,
    transfer_receipts,
    identities,
    webhook_endpoints,
    statements,
    enquiries,
    enquiry_sources,
    enquiry_messages,
    member_invitations,
    source_terms,
    terms_acceptances,
    upload_sessions,
);

diesel::table! {
    notifications (id) {
        id -> Int8,
        user_id -> Int8,
        event_id -> Nullable<Int8>,
        application_id -> Nullable<Int8>,
        kind -> Text,
        params -> Jsonb,
        urgent -> Bool,
        created_at -> Timestamptz,
        read_at -> Nullable<Timestamptz>,
        mail -> Text,
    }
}

diesel::table! {
    outbox (id) {
        id -> Int8,
        user_id -> Nullable<Int8>,
        recipient -> Text,
        language -> Text,
        template -> Text,
        context -> Jsonb,
        state -> Text,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        last_error -> Nullable<Text>,
        created_at -> Timestamptz,
        sent_at -> Nullable<Timestamptz>,
        message_id -> Nullable<Text>,
        channel -> Text,
        endpoint_id -> Nullable<Int8>,
        response_status -> Nullable<Int4>,
        response_excerpt -> Nullable<Text>,
    }
}

diesel::joinable!(notifications -> users (user_id));

// ---- integrations ----
diesel::table! {
    identities (id) {
        id -> Int8,
        user_id -> Int8,
        provider -> Text,
        issuer -> Text,
        subject -> Text,
        email -> Nullable<Text>,
        created_at -> Timestamptz,
        last_login_at -> Timestamptz,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> Int8,
        organisation_id -> Int8,
        url -> Text,
        event_kinds -> Array<Text>,
        secret -> Text,
        created_by -> Nullable<Int8>,
        created_at -> Timestamptz,
        disabled_at -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(identities -> users (user_id));
diesel::joinable!(webhook_endpoints -> organisations (organisation_id));
diesel::joinable!(outbox -> webhook_endpoints (endpoint_id));

// ---- statements (uttalelser) ----
diesel::table! {
    statements (id) {
        id -> Int8,
        application_id -> Int8,
        requested_by -> Int8,
        reviewer_id -> Int8,
        question -> Text,
        due_on -> Date,
        answer -> Nullable<Text>,
        answered_at -> Nullable<Timestamptz>,
        reminded_at -> Nullable<Timestamptz>,
        invite_token_hash -> Nullable<Text>,
        invite_expires_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        lapsed_at -> Nullable<Timestamptz>,
        withheld -> Bool,
        withheld_reason -> Nullable<Text>,
        shared_at -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(statements -> applications (application_id));

// ---- pre-application enquiries (forhåndsveiledning) ----
diesel::table! {
    enquiries (id) {
        id -> Int8,
        asker_id -> Int8,
        subject -> Text,
        state -> Text,
        application_id -> Nullable<Int8>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    enquiry_sources (enquiry_id, data_source_id) {
        enquiry_id -> Int8,
        data_source_id -> Int8,
        position -> Int4,
    }
}

diesel::table! {
    enquiry_messages (id) {
        id -> Int8,
        enquiry_id -> Int8,
        author_id -> Int8,
        body -> Text,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(enquiry_sources -> enquiries (enquiry_id));
diesel::joinable!(enquiry_sources -> data_sources (data_source_id));
diesel::joinable!(enquiry_messages -> enquiries (enquiry_id));
diesel::joinable!(enquiry_messages -> users (author_id));

// ---- members who are invited and accept terms ----
diesel::table! {
    member_invitations (application_id, email) {
        application_id -> Int8,
        email -> Text,
        token_hash -> Nullable<Text>,
        expires_at -> Nullable<Timestamptz>,
        invited_at -> Timestamptz,
        accepted_at -> Nullable<Timestamptz>,
        user_id -> Nullable<Int8>,
    }
}

diesel::table! {
    source_terms (id) {
        id -> Int8,
        data_source_id -> Int8,
        version -> Int4,
        text_nb -> Text,
        text_en -> Text,
        published_at -> Timestamptz,
        published_by -> Nullable<Int8>,
    }
}

diesel::table! {
    terms_acceptances (application_id, user_id, terms_id) {
        application_id -> Int8,
        user_id -> Int8,
        terms_id -> Int8,
        accepted_at -> Timestamptz,
    }
}

diesel::joinable!(member_invitations -> applications (application_id));
diesel::joinable!(source_terms -> data_sources (data_source_id));
diesel::joinable!(terms_acceptances -> source_terms (terms_id));
