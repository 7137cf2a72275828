// Package evictsim measures cache eviction policies on synthetic request
// traces, so that the record store's eviction policy is chosen by
// measurement (issue 12) rather than by reputation.
//
// It holds three policies behind one small interface, [Policy]: [LRU],
// [S3FIFO] (Yang et al., "FIFO queues are all you need for cache eviction",
// SOSP 2023) and [TinyLFU], a W-TinyLFU as in Caffeine and otter v2. Each
// counts capacity in entries and stores keys only: they are simulators of
// hit ratio, not caches. The traces ([TraceSpecs]) are deterministic from a
// seed. [Simulate] replays a trace through a policy.
//
// The figures and the conclusion are in RESULTS.md next to this file; the
// benchmarks (BenchmarkPolicies) regenerate them. The nested module
// internal/evictbench replays the same traces through otter v2 and
// hashicorp/golang-lru v2 to check the simulators against real caches.
//
// The package uses the standard library only.
package evictsim
