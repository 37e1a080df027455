//! Questions to one node's satellite (physical storage): the HTTP handler asks the hub, the
//! hub hands the question to that node's connected link, the link sends it with an id and
//! hands back the answer with that id.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use linstor_core::NodeName;
use linstor_proto::{SatAnswer, SatRequest};
use tokio::sync::{mpsc, oneshot};

/// How long a question may take (creating a pool runs pvcreate/vgcreate/lvcreate).
pub const ASK_TIMEOUT: Duration = Duration::from_secs(120);

/// One question on its way.
#[derive(Debug)]
pub struct Ask {
    /// The question.
    pub request: SatRequest,
    /// Where the answer goes.
    pub reply: oneshot::Sender<SatAnswer>,
}

/// Why a question got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AskError {
    /// No link to the node's satellite.
    #[error("node '{0}' is not connected")]
    NotConnected(String),
    /// The link went down before the answer came.
    #[error("the link to node '{0}' was lost before it answered")]
    Lost(String),
    /// No answer in time.
    #[error("node '{0}' did not answer within {1:?}")]
    Timeout(String, Duration),
}

/// The connected links, by node.
#[derive(Debug, Default)]
pub struct Hub {
    links: Mutex<BTreeMap<NodeName, mpsc::Sender<Ask>>>,
}

impl Hub {
    /// A link of `node` is up; questions go to `tx`.
    pub fn register(&self, node: &NodeName, tx: mpsc::Sender<Ask>) {
        self.lock().insert(node.clone(), tx);
    }

    /// `node`'s link is down.
    pub fn unregister(&self, node: &NodeName) {
        self.lock().remove(node);
    }

    /// Nodes with a link.
    pub fn connected(&self) -> Vec<NodeName> {
        self.lock().keys().cloned().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<NodeName, mpsc::Sender<Ask>>> {
        self.links
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Asks `node` and waits for its answer.
    pub async fn ask(&self, node: &NodeName, request: SatRequest) -> Result<SatAnswer, AskError> {
        let name = node.to_string();
        let tx = self
            .lock()
            .get(node)
            .cloned()
            .ok_or_else(|| AskError::NotConnected(name.clone()))?;
        let (reply, rx) = oneshot::channel();
        tx.send(Ask { request, reply })
            .await
            .map_err(|_| AskError::Lost(name.clone()))?;
        match tokio::time::timeout(ASK_TIMEOUT, rx).await {
            Ok(Ok(a)) => Ok(a),
            Ok(Err(_)) => Err(AskError::Lost(name)),
            Err(_) => Err(AskError::Timeout(name, ASK_TIMEOUT)),
        }
    }
}
