//go:build !race

package gateway_test

// raceDetector reports whether the tests run under the race detector,
// which changes what the runtime allocates (answercopies_test.go).
const raceDetector = false
