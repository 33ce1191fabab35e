package postgres

// PurgeRateBuckets is purgeRateBuckets, for the tests of the rate limiter.
var PurgeRateBuckets = purgeRateBuckets
