// A small SCIM 2.0 server built on SCIMMY (the library) and scimmy-routers (its Express routes),
// for trying entra-sim against a third-party implementation on loopback. Not a product: users and
// groups live in memory and vanish when it stops.
//
// Environment: SCIMMY_PORT (default 8091), SCIMMY_TOKEN (required; the bearer token clients must
// send; never printed). Serves http://127.0.0.1:$SCIMMY_PORT/scim.
//
// Our choices, where SCIMMY leaves them to the host: the EnterpriseUser extension on User
// (optional), server-assigned UUIDs, and 409 `uniqueness` for a second user with the same userName
// or a second group with the same displayName (case-insensitive): RFC 7643 marks userName unique
// (not group displayName), Entra expects both refused.
// Everything else (filters, PATCH, booleans, paging, errors) is SCIMMY's own behaviour.

import { randomUUID, timingSafeEqual } from "node:crypto";

import express from "express";
import SCIMMY from "scimmy";
import SCIMMYRouters from "scimmy-routers";

const port = Number(process.env.SCIMMY_PORT ?? 8091);
const token = process.env.SCIMMY_TOKEN;
if (!token) {
  console.error("scimmy-host: set SCIMMY_TOKEN to the bearer token clients must send");
  process.exit(2);
}

const uniqueAttr = { User: "userName", Group: "displayName" };
const stores = { User: new Map(), Group: new Map() };

/** Throws 409 when another resource of `kind` already uses `instance`'s unique attribute. */
function checkUnique(kind, id, instance) {
  const attr = uniqueAttr[kind];
  const wanted = String(instance[attr] ?? "").toLowerCase();
  for (const other of stores[kind].values()) {
    if (other.id !== id && String(other[attr] ?? "").toLowerCase() === wanted) {
      throw new SCIMMY.Types.Error(409, "uniqueness", `${attr} '${instance[attr]}' is already in use`);
    }
  }
}

function notFound(id) {
  return new SCIMMY.Types.Error(404, null, `Resource ${id} not found`);
}

/** Stores a created (no id) or replaced/patched (id) resource and returns what is stored. */
function save(kind, resource, instance) {
  const store = stores[kind];
  if (resource.id && !store.has(resource.id)) throw notFound(resource.id);
  checkUnique(kind, resource.id, instance);
  const id = resource.id ?? randomUUID();
  const now = new Date().toISOString();
  const created = store.get(id)?.meta?.created ?? now;
  const stored = { ...instance, id, meta: { created, lastModified: now } };
  store.set(id, stored);
  return stored;
}

/** One resource by id, or every resource matching the request's filter. */
function find(kind, resource) {
  const store = stores[kind];
  if (resource.id) {
    const found = store.get(resource.id);
    if (!found) throw notFound(resource.id);
    return found;
  }
  const all = [...store.values()];
  return resource.filter ? resource.filter.match(all) : all;
}

function remove(kind, resource) {
  if (!stores[kind].delete(resource.id)) throw notFound(resource.id);
}

SCIMMY.Resources.User.extend(SCIMMY.Schemas.EnterpriseUser, false);
for (const kind of ["User", "Group"]) {
  SCIMMY.Resources.declare(SCIMMY.Resources[kind])
    .ingress((resource, instance) => save(kind, resource, instance))
    .egress((resource) => find(kind, resource))
    .degress((resource) => remove(kind, resource));
}

function sameToken(given) {
  const a = Buffer.from(given ?? "");
  const b = Buffer.from(`Bearer ${token}`);
  return a.length === b.length && timingSafeEqual(a, b);
}

const app = express();
app.use(
  "/scim",
  new SCIMMYRouters({
    type: "bearer",
    handler: (req) => {
      if (!sameToken(req.header("Authorization"))) throw new Error("Authorization failed");
      return "entra-sim";
    },
  }),
);
app.listen(port, "127.0.0.1", () => {
  console.log(`SCIMMY host listening at http://127.0.0.1:${port}/scim`);
});
