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

diesel::joinable!(users -> organisations (organisation_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(api_tokens -> users (user_id));
diesel::joinable!(data_sources -> organisations (owner_id));
diesel::joinable!(variables -> data_sources (data_source_id));

diesel::allow_tables_to_appear_in_same_query!(
    organisations,
    users,
    sessions,
    api_tokens,
    login_attempts,
    data_sources,
    variables,
    events,
);
