//! Issue 6: `plan` sends only reads, changes nothing, and the following cycle sends exactly the
//! planned writes.

use crate::support::{Harness, tenant, user};

#[tokio::test]
async fn a_cycle_sends_exactly_what_was_planned() {
    let mut h = Harness::shipped("sample").await;
    let planned = h.plan().await;
    assert!(
        h.target.requests().iter().all(|r| r.method == "GET"),
        "planning sends only reads"
    );
    assert!(h.target.users().is_empty());
    assert_eq!(h.plan().await, planned, "planning changed nothing");
    h.cycle().await;
    assert_eq!(h.writes(), planned);
    assert!(
        h.plan().await.is_empty(),
        "after the cycle, nothing is left to do"
    );
}

#[tokio::test]
async fn incremental_plans_match_their_cycles() {
    let a = user("a1", "alice", "Alice", "CEO", None, "");
    let b = user("b2", "bob", "Bob", "Engineer", Some("a1"), "");
    let mut h = Harness::new(
        &tenant(&[a.clone(), b.clone()], &["a1", "b2"]),
        "mappings/scim-default.yaml",
        "assignments:\n  - principal: Team\n",
        "",
    )
    .await;
    h.cycle().await;
    let c = user("c3", "carol", "Carol", "Analyst", Some("a1"), "");
    h.set_directory(&tenant(
        &[user("a1", "alice", "Alicia", "CEO", None, ""), c],
        &["a1", "c3"],
    ));
    let planned = h.plan().await;
    assert_eq!(planned.len(), 6, "{planned:#?}");
    h.cycle().await;
    assert_eq!(h.writes(), planned);
}
