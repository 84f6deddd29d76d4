//! Entra's "Test Connection" (spec §2.2) as a flow: one GET per probe path (a user query for a
//! GUID no user has, then a group query when groups are provisioned), each reply classified as
//! Entra classifies it; after a probe that could not connect, the rest would only repeat it.

use super::{Flow, Method, Next, Reply, Request, wire};
use crate::scim::{OpKind, Outcome};

/// One probe and what came of it.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionProbe {
    /// The path asked (after the Tenant URL).
    pub path: String,
    /// The HTTP status, when there was a response.
    pub status: Option<u16>,
    /// No connection could be made.
    pub unreachable: bool,
    /// The reply classified for Test Connection: success is an empty ListResponse.
    pub outcome: Outcome,
}

/// Sends each probe in turn and collects their results.
#[derive(Debug)]
pub struct ConnectionFlow {
    paths: std::vec::IntoIter<String>,
    /// The path whose reply is awaited.
    asking: Option<String>,
    probes: Vec<ConnectionProbe>,
}

impl ConnectionFlow {
    /// Probes `paths`, in order.
    pub fn new(paths: Vec<String>) -> Self {
        Self {
            paths: paths.into_iter(),
            asking: None,
            probes: Vec::new(),
        }
    }

    fn done(&mut self) -> Next<Vec<ConnectionProbe>> {
        Next::Done(std::mem::take(&mut self.probes))
    }
}

impl Flow<Vec<ConnectionProbe>> for ConnectionFlow {
    fn step(&mut self, reply: Option<Reply>) -> Next<Vec<ConnectionProbe>> {
        if let (Some(path), Some(reply)) = (self.asking.take(), reply) {
            let status = match &reply {
                Reply::Http { status, .. } => Some(*status),
                Reply::Transport { .. } | Reply::NoToken { .. } => None,
            };
            let unreachable = matches!(reply, Reply::Transport { connect: true, .. });
            self.probes.push(ConnectionProbe {
                path,
                status,
                unreachable,
                outcome: wire::outcome(OpKind::TestConnection, reply),
            });
            if unreachable {
                return self.done();
            }
        }
        match self.paths.next() {
            Some(path) => {
                self.asking = Some(path.clone());
                Next::Send(Request {
                    method: Method::Get,
                    path,
                    body: None,
                })
            }
            None => self.done(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(total: u64) -> Reply {
        Reply::Http {
            status: 200,
            retry_after: None,
            body: serde_json::json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                "totalResults": total, "Resources": [], "startIndex": 1, "itemsPerPage": 0
            })
            .to_string()
            .into_bytes(),
        }
    }

    fn refused() -> Reply {
        Reply::Transport {
            timeout: false,
            connect: true,
            message: "refused".into(),
        }
    }

    /// Asks each path with a GET, in order, and ends after the last.
    #[test]
    fn probes_each_path_in_turn() {
        let mut flow = ConnectionFlow::new(vec!["/Users?a".into(), "/Groups?b".into()]);
        let Next::Send(first) = flow.step(None) else {
            panic!("a request first")
        };
        assert_eq!(
            (first.method, first.path.as_str()),
            (Method::Get, "/Users?a")
        );
        let Next::Send(second) = flow.step(Some(list(0))) else {
            panic!("the group probe")
        };
        assert_eq!(second.path, "/Groups?b");
        let Next::Done(probes) = flow.step(Some(list(0))) else {
            panic!("done")
        };
        assert_eq!(probes.len(), 2);
        assert!(
            probes
                .iter()
                .all(|p| p.status == Some(200) && !p.unreachable)
        );
    }

    /// Nothing answered the first probe: the second is not sent.
    #[test]
    fn stops_after_an_unreachable_probe() {
        let mut flow = ConnectionFlow::new(vec!["/Users?a".into(), "/Groups?b".into()]);
        assert!(matches!(flow.step(None), Next::Send(_)));
        let Next::Done(probes) = flow.step(Some(refused())) else {
            panic!("done after a refused connection")
        };
        assert_eq!(probes.len(), 1);
        assert!(probes[0].unreachable);
        assert_eq!(probes[0].status, None);
        assert!(matches!(probes[0].outcome, Outcome::Failure(_)));
    }
}
