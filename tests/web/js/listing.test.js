// List filters kept in the URL (listing.js): what a query string reads as, and what is written.

import assert from "node:assert/strict";
import { test } from "node:test";

import { listQuery, readListState } from "../../../src/vocalis/api/web/listing.js";

const DEFAULTS = { search: "", status: "", page: 1 };

test("a query string reads as filters; missing keys take their defaults", () => {
  assert.deepEqual(readListState("?search=tide&page=3", DEFAULTS), { search: "tide", status: "", page: 3 });
  assert.deepEqual(readListState("", DEFAULTS), DEFAULTS);
  assert.deepEqual(readListState("?other=1", DEFAULTS), DEFAULTS);
});

test("a page is a whole number from 1; anything else is the default page", () => {
  const page = (raw) => readListState(`?page=${raw}`, DEFAULTS).page;
  assert.equal(page("2"), 2);
  assert.equal(page("2.7"), 2);
  for (const bad of ["0", "-3", "abc", "", "Infinity", "1e400"]) assert.equal(page(bad), 1, bad);
});

test("text filters keep what was typed, spaces and symbols included", () => {
  assert.equal(readListState("?search=a%20b%26c", DEFAULTS).search, "a b&c");
});

test("only what differs from the defaults is written, and nothing at all when nothing does", () => {
  assert.equal(listQuery({ search: "a b&c", status: "", page: 2 }, DEFAULTS), "?search=a+b%26c&page=2");
  assert.equal(listQuery({ ...DEFAULTS }, DEFAULTS), "");
});

test("what is written reads back as the same filters", () => {
  const state = { search: "harbour pilot", status: "failed", page: 4 };
  assert.deepEqual(readListState(listQuery(state, DEFAULTS), DEFAULTS), state);
});
