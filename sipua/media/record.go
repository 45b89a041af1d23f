package media

import (
	"bufio"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
)

// A call recording: one stereo WAV file, 8 kHz, 16-bit; left is what we
// sent, right what we received (after the jitter buffer, as it would be
// heard). Both channels are written on the session's 20 ms tick, so they
// stay aligned: a sample at time t on the left went out at t, one on the
// right was played at t. Frames go through a channel to a writer
// goroutine, so the disk never delays a send; if the disk falls more than
// two seconds behind, frames are dropped and counted.

const recordQueue = 100 // frames: 2 s

type recorder struct {
	path    string
	f       *os.File
	frames  chan []byte
	done    chan struct{}
	bytes   uint32
	err     error
	dropped atomic.Uint64
	written atomic.Uint64 // frames
}

var framePool = sync.Pool{New: func() any { b := make([]byte, 4*FrameSamples); return &b }}

func startRecorder(path string) (*recorder, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return nil, err
	}
	if err := WriteWAVHeader(f, SampleRate, 2, 0); err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	r := &recorder{path: path, f: f, frames: make(chan []byte, recordQueue), done: make(chan struct{})}
	go r.loop()
	return r, nil
}

// write queues one 20 ms frame of both directions; never blocks.
func (r *recorder) write(sent, received []int16) {
	bp := framePool.Get().(*[]byte)
	b := *bp
	for i := range FrameSamples {
		var l, rt int16
		if i < len(sent) {
			l = sent[i]
		}
		if i < len(received) {
			rt = received[i]
		}
		binary.LittleEndian.PutUint16(b[4*i:], uint16(l))
		binary.LittleEndian.PutUint16(b[4*i+2:], uint16(rt))
	}
	select {
	case r.frames <- b:
	default:
		framePool.Put(bp)
		r.dropped.Add(1)
	}
}

func (r *recorder) loop() {
	defer close(r.done)
	w := bufio.NewWriterSize(r.f, 32<<10)
	for b := range r.frames {
		if r.err == nil {
			if _, err := w.Write(b); err != nil {
				r.err = err
			} else {
				r.bytes += uint32(len(b))
				r.written.Add(1)
			}
		}
		framePool.Put(&b)
	}
	if err := w.Flush(); err != nil && r.err == nil {
		r.err = err
	}
}

// stop ends the file: the header gets its sizes. A recording of nothing
// is removed.
func (r *recorder) stop() error {
	close(r.frames)
	<-r.done
	err := r.err
	if _, serr := r.f.Seek(0, 0); serr == nil && err == nil {
		err = WriteWAVHeader(r.f, SampleRate, 2, r.bytes)
	}
	if cerr := r.f.Close(); err == nil {
		err = cerr
	}
	if r.bytes == 0 {
		os.Remove(r.path)
		if err == nil {
			err = errEmptyRecording
		}
	}
	return err
}

var errEmptyRecording = errors.New("media: nothing was recorded")
