-- The settler's retries, stale settling and failed authorizations, by the
-- time of their last attempt: listed apart from due work, which is listed
-- by age in upto_open (migration 0016), so that neither starves the other
-- (docs/design.md §5). No move of the request path enters or leaves these
-- states, so this index costs a request nothing.
CREATE INDEX upto_retry ON upto_authorizations (updated_at) WHERE state IN ('settling', 'failed');
