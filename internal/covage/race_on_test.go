//go:build race

package covage

// raceDetector reports whether the tests run under the race detector,
// which changes what the runtime allocates (listsize_test.go).
const raceDetector = true
