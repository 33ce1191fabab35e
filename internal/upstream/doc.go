// Package upstream forwards requests to the OpenAI-compatible upstream and
// reads what they consumed: what pricing needs from a request body
// (InspectRequest), the usage a response reports (ParseUsage), and the
// events of a streamed response (EventReader, StreamMeter).
//
// The parsers read outside input on every request, so they are hand-written
// scanners that validate the JSON they walk, match keys exactly, never
// allocate per chunk and never turn a number into a float.
package upstream
