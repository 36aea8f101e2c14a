//! Size of the work queue, for the queue depth metric.

use crate::backend::{Store, on_backend};
use crate::error::Result;

const COUNT_QUEUED: &str = "SELECT COUNT(*) FROM work_items WHERE status = 'queued'";

impl Store {
    /// Counts the queued work items, including items leased to a worker and items
    /// waiting for a retry.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`](crate::StoreError::Database) when the database fails.
    pub async fn queue_depth(&self) -> Result<u64> {
        let (count,): (i64,) = on_backend!(Pool, &self.pool, |pool| {
            sqlx::query_as(COUNT_QUEUED).fetch_one(pool).await?
        });
        Ok(u64::try_from(count).unwrap_or(0))
    }
}
