//! Integration tests of the store. Every case runs twice: on a new SQLite file and on a
//! new schema in the PostgreSQL database named by `VACCRED_TEST_POSTGRES_URL`. The
//! PostgreSQL variants fail when that variable is not set.

mod depth;
mod intake;
mod lookups;
mod notifications;
mod queue;
mod revocation;
mod support;
mod uploads;

/// Generates one test per backend for each `module::case`, in modules `sqlite` and
/// `postgres`.
macro_rules! on_both_backends {
    ($($module:ident::$case:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let db = crate::support::TestDb::sqlite().await;
                    crate::$module::$case(&db).await;
                    db.close().await;
                }
            )+
        }

        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let db = crate::support::TestDb::postgres().await;
                    crate::$module::$case(&db).await;
                    db.close().await;
                }
            )+
        }
    };
}

on_both_backends!(
    intake::accept_is_all_or_nothing,
    intake::concurrent_bodies_fail_alone,
    intake::duplicate_within_one_body,
    intake::duplicate_across_bodies,
    intake::concurrent_accepts_yield_one_original,
    intake::rejected_original_frees_key,
    intake::update_items_skip_idempotency,
    intake::acknowledgement_reports_item_states,
    intake::empty_body_is_acknowledged,
    queue::workers_complete_each_item_once,
    queue::expired_lease_is_taken_over,
    queue::lost_lease_changes_nothing,
    queue::expired_lease_race_issues_once,
    queue::retry_later_backs_off,
    queue::release_returns_item_at_once,
    queue::claim_takes_oldest_first,
    queue::taken_certificate_id_keeps_lease,
    queue::batch_completes_owned_items,
    queue::batch_with_taken_id_stores_nothing,
    revocation::update_supersedes_and_revokes,
    revocation::concurrent_updates_follow_chain,
    revocation::update_limit_counts_queued_updates,
    revocation::revoke_enforces_divoc_rules,
    revocation::revoke_all_doses,
    revocation::revocation_list_full_and_delta,
    revocation::concurrent_revocations_get_distinct_serials,
    lookups::latest_prefers_highest_dose,
    lookups::certificate_round_trips_exactly,
    lookups::certificates_found_by_mobile,
    lookups::debug_output_hides_personal_data,
    lookups::api_client_crud,
    lookups::signing_key_lifecycle,
    lookups::health_and_reopen,
    depth::queue_depth_counts_queued_items,
    uploads::upload_stores_items_and_errors,
    uploads::upload_status_follows_items,
    uploads::upload_of_only_errors_is_failed,
    uploads::upload_is_all_or_nothing,
    notifications::issue_enqueues_sms_and_email,
    notifications::no_policy_enqueues_nothing,
    notifications::update_and_revoke_enqueue_events,
    notifications::retry_waits_for_backoff,
    notifications::delivered_is_never_claimed_again,
    notifications::expired_notification_lease_taken_over,
    notifications::failed_message_can_be_resent,
    notifications::otp_overtakes_backlog,
    notifications::expired_otp_is_never_sent,
    notifications::deferral_keeps_attempt_count,
    notifications::concurrent_claimers_split_messages,
);
