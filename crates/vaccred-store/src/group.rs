//! Group commit of accepted request bodies on SQLite.
//!
//! Backend-specific: SQLite commits one write transaction at a time, and with
//! `synchronous=FULL` each commit waits for the disk to flush the write-ahead log, which
//! takes milliseconds. One transaction per certify request would cap SQLite at a few
//! hundred requests per second and queue the rest. Instead, one task per store takes every
//! body waiting to be accepted, stores each under its own savepoint in one transaction and
//! commits them together: one flush for the whole group. A body that fails rolls back to
//! its savepoint, so the other bodies of its group are unaffected and each body stays
//! all-or-nothing.

use std::sync::Arc;

use sqlx::SqlitePool;
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::backend::{Tx, begin_sqlite_write};
use crate::error::{Result, StoreError};
use crate::intake::{AcceptedItem, ItemContext, NewItem, accept_in};

/// Bodies waiting beyond this many make senders wait, which bounds memory under overload.
const QUEUE_CAPACITY: usize = 1024;

/// Upper bound on the items of one group, so that one transaction stays short enough not to
/// delay the signing workers' completions for long.
const MAX_GROUP_ITEMS: usize = 2000;

/// One request body waiting to be stored.
pub(crate) struct AcceptJob {
    pub(crate) client_id: String,
    pub(crate) context: ItemContext,
    pub(crate) items: Vec<NewItem>,
    pub(crate) update_limit: Option<u32>,
    reply: oneshot::Sender<Result<Vec<AcceptedItem>>>,
}

/// The sending side of a store's accept task. Clones share the task, which ends when the
/// last clone is dropped.
#[derive(Debug, Clone)]
pub(crate) struct AcceptGroups {
    sender: mpsc::Sender<AcceptJob>,
}

/// Outcome of a body handed to [`AcceptGroups::submit`].
pub(crate) enum Submitted {
    /// The task stored the body, or reported why it could not.
    Done(Result<Vec<AcceptedItem>>),
    /// The task is gone (its runtime shut down), so the caller must store the body itself.
    TaskGone(AcceptJob),
}

impl AcceptGroups {
    /// Starts the accept task on the current tokio runtime.
    pub(crate) fn start(pool: SqlitePool, turn: Arc<Mutex<()>>) -> AcceptGroups {
        let (sender, receiver) = mpsc::channel(QUEUE_CAPACITY);
        tokio::spawn(run(pool, turn, receiver));
        AcceptGroups { sender }
    }

    /// Hands a body to the task and waits until its group is committed.
    pub(crate) async fn submit(
        &self,
        client_id: &str,
        context: ItemContext,
        items: &[NewItem],
        update_limit: Option<u32>,
    ) -> Submitted {
        let (reply, answer) = oneshot::channel();
        let job = AcceptJob {
            client_id: client_id.to_owned(),
            context,
            items: items.to_vec(),
            update_limit,
            reply,
        };
        if let Err(mpsc::error::SendError(job)) = self.sender.send(job).await {
            return Submitted::TaskGone(job);
        }
        match answer.await {
            Ok(result) => Submitted::Done(result),
            // The task stopped while the group was open, so its transaction rolled back.
            Err(_) => Submitted::Done(Err(group_failed(&"the accept task stopped"))),
        }
    }
}

impl AcceptJob {
    /// Stores the body in `tx`: the same work as one job of a group, without a savepoint.
    pub(crate) async fn store_in(&self, tx: &mut Tx) -> Result<Vec<AcceptedItem>> {
        accept_in(
            tx,
            &self.client_id,
            &self.context,
            &self.items,
            self.update_limit,
        )
        .await
    }
}

async fn run(pool: SqlitePool, turn: Arc<Mutex<()>>, mut receiver: mpsc::Receiver<AcceptJob>) {
    while let Some(first) = receiver.recv().await {
        let mut items = first.items.len();
        let mut jobs = vec![first];
        while items < MAX_GROUP_ITEMS {
            let Ok(job) = receiver.try_recv() else { break };
            items += job.items.len();
            jobs.push(job);
        }
        let results = store_group(&pool, &turn, &jobs).await;
        tracing::debug!(bodies = jobs.len(), items, "accept group committed");
        for (job, result) in jobs.into_iter().zip(results) {
            // The sender is gone when its client disconnected. The body is stored all the
            // same, and a retry of it is reported as a duplicate.
            let _ = job.reply.send(result);
        }
    }
}

/// Stores every job in one transaction, each under a savepoint, and commits. Returns one
/// result per job, in order.
async fn store_group(
    pool: &SqlitePool,
    turn: &Arc<Mutex<()>>,
    jobs: &[AcceptJob],
) -> Vec<Result<Vec<AcceptedItem>>> {
    let mut tx = match begin_sqlite_write(pool, turn).await {
        Ok(tx) => tx,
        Err(error) => {
            tracing::warn!(%error, bodies = jobs.len(), "cannot begin an accept group");
            return jobs.iter().map(|_| Err(group_failed(&error))).collect();
        }
    };
    let mut results = Vec::with_capacity(jobs.len());
    for job in jobs {
        match store_job(&mut tx, job).await {
            Ok(result) => results.push(result),
            Err(error) => {
                // A savepoint statement failed, so the transaction may hold part of a
                // failed body. Dropping it rolls the whole group back.
                tracing::warn!(%error, bodies = jobs.len(), "accept group rolled back");
                return jobs.iter().map(|_| Err(group_failed(&error))).collect();
            }
        }
    }
    if let Err(error) = tx.commit().await {
        tracing::warn!(%error, bodies = jobs.len(), "accept group commit failed");
        return jobs.iter().map(|_| Err(group_failed(&error))).collect();
    }
    results
}

/// Stores one job under a savepoint, rolling back to it when the job fails. The outer
/// error means a savepoint statement failed and the transaction must be abandoned.
async fn store_job(tx: &mut Tx, job: &AcceptJob) -> Result<Result<Vec<AcceptedItem>>> {
    execute(tx, "SAVEPOINT accept_body").await?;
    let result = job.store_in(tx).await;
    if result.is_err() {
        execute(tx, "ROLLBACK TO accept_body").await?;
    }
    execute(tx, "RELEASE accept_body").await?;
    Ok(result)
}

async fn execute(tx: &mut Tx, statement: &'static str) -> Result<()> {
    match tx {
        Tx::Sqlite(tx) => {
            sqlx::query(statement).execute(&mut **tx).await?;
        }
        Tx::Postgres(_) => unreachable!("accept groups run on SQLite only"),
    }
    Ok(())
}

/// Builds the error of a body whose group could not be committed. Nothing of the body was
/// stored, so the client may send it again.
fn group_failed(cause: &dyn std::fmt::Display) -> StoreError {
    StoreError::Database(sqlx::Error::Protocol(format!(
        "storing a group of request bodies failed: {cause}"
    )))
}
