//! `SCIM_User_Pagination_Test` and `SCIM_Group_Pagination_Test`: with at least 11 objects, pages
//! of `count=5` hold 5 resources each and echo the `startIndex` asked, as the Logic App checks
//! them; a page too long (count ignored) and a `startIndex` not echoed have different fixes.

use serde_json::Value as Json;

use super::direct::{Ctx, created_group, created_user, get, resources, success_then};
use crate::plan::conformance::{Miss, Step};
use crate::scim::ResourceKind;

const PAGE: usize = 5;
/// Enough objects for two full pages and a third.
const PAGED_OBJECTS: usize = 11;

/// A page of `count=5` from `start`: 200, `startIndex` echoed and 5 resources.
fn page(kind: ResourceKind, start: usize) -> Step {
    let path = format!("{}?startIndex={start}&count={PAGE}", kind.collection_path());
    let label = format!("read the page from {start}");
    get(
        &label,
        path,
        success_then(move |body, _| page_check(body, start)),
    )
}

/// A page from `start` echoes it and holds exactly [`PAGE`] resources (11 objects exist).
fn page_check(body: &Json, start: usize) -> Result<(), Miss> {
    let echoed = body.get("startIndex").and_then(Json::as_u64);
    let found = resources(body).len();
    if found > PAGE {
        Err(Miss::hinted(
            format!("returned {found} resources for count={PAGE}"),
            format!(
                "honour count: answer at most count resources per page (here {PAGE}) and page the rest with startIndex"
            ),
        ))
    } else if echoed != Some(start as u64) {
        let seen = echoed.map_or("no startIndex".into(), |e| format!("startIndex {e}"));
        Err(Miss::hinted(
            format!("{seen} answered for startIndex={start}"),
            format!(
                "honour startIndex (1-based) and echo it in the ListResponse: startIndex={start} answers \"startIndex\": {start}"
            ),
        ))
    } else if found < PAGE {
        Err(Miss::hinted(
            format!("returned {found} resources for count={PAGE} with more to come"),
            "fill each page up to count while resources remain (totalResults counts them all)",
        ))
    } else {
        Ok(())
    }
}

fn pagination(kind: ResourceKind, ctx: &Ctx) -> Vec<Step> {
    let mut steps: Vec<Step> = (0..PAGED_OBJECTS)
        .map(|n| match kind {
            ResourceKind::User => created_user(ctx, &format!("p{n}"), &format!("page{n}")),
            ResourceKind::Group => created_group(ctx, &format!("p{n}"), &format!("Page{n}")),
        })
        .collect();
    steps.extend([page(kind, 1), page(kind, 1 + PAGE)]);
    steps
}

/// `SCIM_User_Pagination_Test`: with at least 11 users, `count=5` pages echo `startIndex`.
pub fn user_pagination(ctx: &Ctx) -> Vec<Step> {
    pagination(ResourceKind::User, ctx)
}

/// `SCIM_Group_Pagination_Test`: the same over groups.
pub fn group_pagination(ctx: &Ctx) -> Vec<Step> {
    pagination(ResourceKind::Group, ctx)
}
