package journal

import (
	"sync/atomic"
	"time"
)

// A journal line's time is written as time.Time.AppendText writes it (RFC
// 3339 with the nanoseconds, trailing zeros dropped), for two lines a
// message. Within one second and one location only the fraction changes,
// so appendAt keeps the text around it for the second it wrote last and
// writes the fraction alone; any other second is written by AppendText,
// which then gives the next second's text. FuzzAppendAt compares the two.

// atSecond is the text of one second in one location: the date and time
// before the fraction, and the zone after it.
type atSecond struct {
	sec        int64
	loc        *time.Location
	date, zone []byte
}

var lastAtSecond atomic.Pointer[atSecond]

// appendAt appends t as t.AppendText does, with its errors.
func appendAt(b []byte, t time.Time) ([]byte, error) {
	sec, loc := t.Unix(), t.Location()
	if c := lastAtSecond.Load(); c != nil && c.sec == sec && c.loc == loc {
		b = append(b, c.date...)
		b = appendFraction(b, t.Nanosecond())
		return append(b, c.zone...), nil
	}
	n := len(b)
	b, err := t.AppendText(b)
	if err != nil {
		return b, err
	}
	if out := b[n:]; len(out) > len("2006-01-02T15:04:05") && out[10] == 'T' {
		zone := out[19:]
		if zone[0] == '.' {
			i := 1
			for i < len(zone) && zone[i] >= '0' && zone[i] <= '9' {
				i++
			}
			zone = zone[i:]
		}
		lastAtSecond.Store(&atSecond{sec: sec, loc: loc, date: append([]byte(nil), out[:19]...), zone: append([]byte(nil), zone...)})
	}
	return b, nil
}

// appendFraction appends ns as RFC 3339 with nanoseconds writes the
// fraction of a second: nothing for 0, else "." and nine digits without
// their trailing zeros.
func appendFraction(b []byte, ns int) []byte {
	if ns == 0 {
		return b
	}
	var d [10]byte
	d[0] = '.'
	for i := 9; i > 0; i-- {
		d[i] = byte('0' + ns%10)
		ns /= 10
	}
	n := 10
	for d[n-1] == '0' {
		n--
	}
	return append(b, d[:n]...)
}
