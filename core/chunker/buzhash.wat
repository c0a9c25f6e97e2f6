;; Buzhash content-defined chunker (PBS algorithm, Cairn's own table).
;;
;; Memory: a shared memory the JS side owns (chunk-memory.ts), which also holds the chunks being built, so
;; that they are scanned where they lie:
;;   [0, 1024)            the 256-entry u32 table, written by JS at start-up
;;   elsewhere            what `scan` is given; the 64 bytes before `pos` are the stream's bytes before it (the
;;                        rolling window's leaving bytes), whether the chunk itself or a copy's history
;;
;; The hash depends only on the last 64 bytes, and no cut may happen before `min` bytes, so the scan skips
;; each chunk's first (min - 64) bytes, rebuilds the window from h = 0 over the next 64, and only then starts
;; rolling. This gives exactly the boundaries of the straightforward scan (proved by test/core/chunker/chunker.test.ts).
(module
  (import "env" "memory" (memory 1 65536 shared))
  (global $h (mut i32) (i32.const 0))       ;; rolling hash
  (global $n (mut i32) (i32.const 0))       ;; bytes of the current chunk consumed so far
  (global $min (mut i32) (i32.const 0))
  (global $max (mut i32) (i32.const 0))
  (global $mask (mut i32) (i32.const 0))
  (global $thr (mut i32) (i32.const 0))

  (func (export "configure") (param $min i32) (param $max i32) (param $mask i32)
    (global.set $min (local.get $min))
    (global.set $max (local.get $max))
    (global.set $mask (local.get $mask))
    (global.set $thr (i32.sub (local.get $mask) (i32.const 2)))
    (global.set $h (i32.const 0))
    (global.set $n (i32.const 0)))

  (func (export "chunkLength") (result i32) (global.get $n))

  ;; Scans memory [pos, end). Returns the exclusive position of the first cut, or -1 when the block ends
  ;; without one (the state is kept for the next block).
  (func (export "scan") (param $pos i32) (param $end i32) (result i32)
    (local $h i32) (local $n i32) (local $step i32) (local $stop i32) (local $start i32) (local $mask i32)
    (local $thr i32)
    (local.set $h (global.get $h))
    (local.set $n (global.get $n))
    (local.set $mask (global.get $mask))
    (local.set $thr (global.get $thr))

    ;; 1. skip the bytes that cannot influence the first possible cut
    (if (i32.lt_u (local.get $n) (i32.sub (global.get $min) (i32.const 64)))
      (then
        (local.set $step (i32.sub (i32.sub (global.get $min) (i32.const 64)) (local.get $n)))
        (if (i32.gt_u (local.get $step) (i32.sub (local.get $end) (local.get $pos)))
          (then (local.set $step (i32.sub (local.get $end) (local.get $pos)))))
        (local.set $pos (i32.add (local.get $pos) (local.get $step)))
        (local.set $n (i32.add (local.get $n) (local.get $step)))))

    ;; 2. fill the 64-byte window (no cut test while filling)
    (if (i32.lt_u (local.get $n) (global.get $min))
      (then
        (block $filled
          (loop $fill
            (br_if $filled (i32.ge_u (local.get $pos) (local.get $end)))
            (local.set $h (i32.xor
              (i32.rotl (local.get $h) (i32.const 1))
              (i32.load (i32.shl (i32.load8_u (local.get $pos)) (i32.const 2)))))
            (local.set $pos (i32.add (local.get $pos) (i32.const 1)))
            (local.set $n (i32.add (local.get $n) (i32.const 1)))
            (br_if $fill (i32.lt_u (local.get $n) (global.get $min)))))
        (if (i32.lt_u (local.get $n) (global.get $min))
          (then
            (global.set $h (local.get $h))
            (global.set $n (local.get $n))
            (return (i32.const -1))))
        ;; the byte that completed the window is tested like every rolling byte
        (if (i32.ge_u (i32.and (local.get $h) (local.get $mask)) (local.get $thr))
          (then
            (global.set $h (i32.const 0))
            (global.set $n (i32.const 0))
            (return (local.get $pos))))))

    ;; 3. roll until a cut, the hard maximum, or the end of the block
    (local.set $stop (i32.add (local.get $pos) (i32.sub (global.get $max) (local.get $n))))
    (if (i32.gt_u (local.get $stop) (local.get $end)) (then (local.set $stop (local.get $end))))
    (local.set $start (local.get $pos))
    (block $done
      (loop $roll
        (br_if $done (i32.ge_u (local.get $pos) (local.get $stop)))
        (local.set $h (i32.xor
          (i32.xor
            (i32.rotl (local.get $h) (i32.const 1))
            (i32.load (i32.shl (i32.load8_u (i32.sub (local.get $pos) (i32.const 64))) (i32.const 2))))
          (i32.load (i32.shl (i32.load8_u (local.get $pos)) (i32.const 2)))))
        (local.set $pos (i32.add (local.get $pos) (i32.const 1)))
        (if (i32.ge_u (i32.and (local.get $h) (local.get $mask)) (local.get $thr))
          (then
            (global.set $h (i32.const 0))
            (global.set $n (i32.const 0))
            (return (local.get $pos))))
        (br $roll)))
    (local.set $n (i32.add (local.get $n) (i32.sub (local.get $pos) (local.get $start))))
    (if (i32.ge_u (local.get $n) (global.get $max))
      (then
        (global.set $h (i32.const 0))
        (global.set $n (i32.const 0))
        (return (local.get $pos))))
    (global.set $h (local.get $h))
    (global.set $n (local.get $n))
    (i32.const -1)))
