;; Training kernels of @selmix/models for tfjs-backend-wasm, with WebAssembly SIMD (f32x4).
;;
;; Compiled by scripts/build-wasm.mjs (wabt) into src/kernels-wasm-bytes.ts; edit this file, then run
;; `pnpm build:wasm` in packages/models (a test fails when the two disagree). The module imports the memory of the
;; tfjs wasm backend, so every pointer is a byte offset of a tensor on that heap (backend.getMemoryOffset): no copies.
;; All tensors are float32, row-major, NHWC.

(module
  (import "env" "memory" (memory 1))

  (func $max (param $a i32) (param $b i32) (result i32)
    (select (local.get $a) (local.get $b) (i32.gt_s (local.get $a) (local.get $b))))
  (func $min (param $a i32) (param $b i32) (result i32)
    (select (local.get $a) (local.get $b) (i32.lt_s (local.get $a) (local.get $b))))
  (func $hsum (param $v v128) (result f32)
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
      (f32.add (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v)))))

  ;; im2col_t for c < 4 (first layers), one output row at a time: each (image, output row) segment is zeros, a
  ;; run of x read at stride c·sw (a plain memory.copy when c = sw = 1), zeros.
  (func $im2col_t_rows
    (param $x i32) (param $out i32) (param $n i32) (param $h i32) (param $w i32) (param $c i32)
    (param $kh i32) (param $kw i32) (param $sh i32) (param $sw i32) (param $pt i32) (param $pl i32)
    (param $oh i32) (param $ow i32) (param $rowBytes i32)
    (local $i i32) (local $j i32) (local $ch i32) (local $b i32) (local $oy i32) (local $yy i32) (local $lo i32) (local $hi i32)
    (local $t i32) (local $dst i32) (local $src i32) (local $step i32) (local $o i32) (local $row i32)
    (local.set $step (i32.shl (i32.mul (local.get $c) (local.get $sw)) (i32.const 2)))
    (local.set $row (local.get $out))
    (local.set $i (i32.const 0))
    (loop $li
      (local.set $j (i32.const 0))
      (loop $lj
        ;; valid output columns: 0 <= ox·sw + j − pl < w
        (local.set $t (i32.sub (local.get $pl) (local.get $j)))
        (local.set $lo (select (i32.div_s (i32.add (local.get $t) (i32.sub (local.get $sw) (i32.const 1))) (local.get $sw)) (i32.const 0) (i32.gt_s (local.get $t) (i32.const 0))))
        (local.set $t (i32.add (i32.sub (i32.sub (local.get $w) (i32.const 1)) (local.get $j)) (local.get $pl)))
        (local.set $hi (select (call $min (i32.add (i32.div_s (local.get $t) (local.get $sw)) (i32.const 1)) (local.get $ow)) (i32.const 0) (i32.ge_s (local.get $t) (i32.const 0))))
        (local.set $lo (call $min (local.get $lo) (local.get $ow)))
        (local.set $hi (call $max (local.get $hi) (local.get $lo)))
        (local.set $ch (i32.const 0))
        (loop $lch
          (local.set $dst (local.get $row))
          (local.set $b (i32.const 0))
          (loop $lb
            (local.set $oy (i32.const 0))
            (loop $loy
              (local.set $yy (i32.sub (i32.add (i32.mul (local.get $oy) (local.get $sh)) (local.get $i)) (local.get $pt)))
              (if (i32.lt_u (local.get $yy) (local.get $h))
                (then
                  (memory.fill (local.get $dst) (i32.const 0) (i32.shl (local.get $lo) (i32.const 2)))
                  (memory.fill (i32.add (local.get $dst) (i32.shl (local.get $hi) (i32.const 2))) (i32.const 0)
                    (i32.shl (i32.sub (local.get $ow) (local.get $hi)) (i32.const 2)))
                  (local.set $src
                    (i32.add (local.get $x)
                      (i32.shl
                        (i32.add
                          (i32.mul
                            (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h)) (local.get $yy)) (local.get $w))
                              (i32.sub (i32.add (i32.mul (local.get $lo) (local.get $sw)) (local.get $j)) (local.get $pl)))
                            (local.get $c))
                          (local.get $ch))
                        (i32.const 2))))
                  (if (i32.eq (local.get $step) (i32.const 4))
                    (then
                      (memory.copy (i32.add (local.get $dst) (i32.shl (local.get $lo) (i32.const 2))) (local.get $src)
                        (i32.shl (i32.sub (local.get $hi) (local.get $lo)) (i32.const 2))))
                    (else
                      (local.set $o (i32.add (local.get $dst) (i32.shl (local.get $lo) (i32.const 2))))
                      (local.set $t (i32.add (local.get $dst) (i32.shl (local.get $hi) (i32.const 2))))
                      (block $gdone
                        (loop $g
                          (br_if $gdone (i32.ge_u (local.get $o) (local.get $t)))
                          (f32.store (local.get $o) (f32.load (local.get $src)))
                          (local.set $src (i32.add (local.get $src) (local.get $step)))
                          (local.set $o (i32.add (local.get $o) (i32.const 4)))
                          (br $g))))))
                (else (memory.fill (local.get $dst) (i32.const 0) (i32.shl (local.get $ow) (i32.const 2)))))
              (local.set $dst (i32.add (local.get $dst) (i32.shl (local.get $ow) (i32.const 2))))
              (br_if $loy (i32.lt_s (local.tee $oy (i32.add (local.get $oy) (i32.const 1))) (local.get $oh))))
            (br_if $lb (i32.lt_s (local.tee $b (i32.add (local.get $b) (i32.const 1))) (local.get $n))))
          (local.set $row (i32.add (local.get $row) (local.get $rowBytes)))
          (br_if $lch (i32.lt_s (local.tee $ch (i32.add (local.get $ch) (i32.const 1))) (local.get $c))))
        (br_if $lj (i32.lt_s (local.tee $j (i32.add (local.get $j) (i32.const 1))) (local.get $kw))))
      (br_if $li (i32.lt_s (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $kh)))))

  ;; Transposed im2col: out[r][p] = x[b, oy·sh + i − pt, ox·sw + j − pl, ch] (0 outside x), with the row
  ;; r = (i·kw + j)·c + ch and the column p = (b·oh + oy)·ow + ox; out is [kh·kw·c, n·oh·ow] with rows $ld ≥ n·oh·ow
  ;; floats apart (a row stride of a power of two would map every row to the same cache sets). The filter gradient
  ;; is then the plain product out · dy[n·oh·ow, co], laid out [kh, kw, c, co]. x is read once, in order; each
  ;; 4-channel vector is spread over 4 rows.
  (func (export "im2col_t")
    (param $x i32) (param $out i32) (param $n i32) (param $h i32) (param $w i32) (param $c i32)
    (param $kh i32) (param $kw i32) (param $sh i32) (param $sw i32) (param $pt i32) (param $pl i32)
    (param $oh i32) (param $ow i32) (param $ld i32)
    (local $rowBytes i32) (local $c4 i32) (local $i i32) (local $j i32) (local $b i32) (local $oy i32) (local $ox i32)
    (local $yy i32) (local $xx i32) (local $dst i32) (local $src i32) (local $ch i32) (local $v v128)
    (local $row0 i32) (local $col i32) (local $rowBase i32)
    (local.set $rowBytes (i32.shl (local.get $ld) (i32.const 2)))
    (if (i32.lt_s (local.get $c) (i32.const 4))
      (then
        (call $im2col_t_rows (local.get $x) (local.get $out) (local.get $n) (local.get $h) (local.get $w) (local.get $c)
          (local.get $kh) (local.get $kw) (local.get $sh) (local.get $sw) (local.get $pt) (local.get $pl) (local.get $oh)
          (local.get $ow) (local.get $rowBytes))
        (return)))
    (local.set $c4 (i32.and (local.get $c) (i32.const -4)))
    (local.set $i (i32.const 0))
    (loop $li
      (local.set $j (i32.const 0))
      (loop $lj
        (local.set $row0
          (i32.add (local.get $out)
            (i32.mul (i32.mul (i32.add (i32.mul (local.get $i) (local.get $kw)) (local.get $j)) (local.get $c)) (local.get $rowBytes))))
        (local.set $col (i32.const 0))
        (local.set $b (i32.const 0))
        (loop $lb
          (local.set $oy (i32.const 0))
          (loop $loy
            (local.set $yy (i32.sub (i32.add (i32.mul (local.get $oy) (local.get $sh)) (local.get $i)) (local.get $pt)))
            (local.set $rowBase (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h)) (local.get $yy)) (local.get $w)))
            (local.set $ox (i32.const 0))
            (loop $lox
              (local.set $xx (i32.sub (i32.add (i32.mul (local.get $ox) (local.get $sw)) (local.get $j)) (local.get $pl)))
              (local.set $dst (i32.add (local.get $row0) (i32.shl (local.get $col) (i32.const 2))))
              (local.set $ch (i32.const 0))
              (if (i32.and (i32.lt_u (local.get $yy) (local.get $h)) (i32.lt_u (local.get $xx) (local.get $w)))
                (then
                  (local.set $src
                    (i32.add (local.get $x)
                      (i32.shl (i32.mul (i32.add (local.get $rowBase) (local.get $xx)) (local.get $c)) (i32.const 2))))
                  (block $vdone
                    (loop $lv
                      (br_if $vdone (i32.ge_s (local.get $ch) (local.get $c4)))
                      (local.set $v (v128.load align=4 (local.get $src)))
                      (f32.store (local.get $dst) (f32x4.extract_lane 0 (local.get $v)))
                      (local.set $dst (i32.add (local.get $dst) (local.get $rowBytes)))
                      (f32.store (local.get $dst) (f32x4.extract_lane 1 (local.get $v)))
                      (local.set $dst (i32.add (local.get $dst) (local.get $rowBytes)))
                      (f32.store (local.get $dst) (f32x4.extract_lane 2 (local.get $v)))
                      (local.set $dst (i32.add (local.get $dst) (local.get $rowBytes)))
                      (f32.store (local.get $dst) (f32x4.extract_lane 3 (local.get $v)))
                      (local.set $dst (i32.add (local.get $dst) (local.get $rowBytes)))
                      (local.set $src (i32.add (local.get $src) (i32.const 16)))
                      (local.set $ch (i32.add (local.get $ch) (i32.const 4)))
                      (br $lv)))
                  (block $sdone
                    (loop $ls
                      (br_if $sdone (i32.ge_s (local.get $ch) (local.get $c)))
                      (f32.store (local.get $dst) (f32.load (local.get $src)))
                      (local.set $dst (i32.add (local.get $dst) (local.get $rowBytes)))
                      (local.set $src (i32.add (local.get $src) (i32.const 4)))
                      (local.set $ch (i32.add (local.get $ch) (i32.const 1)))
                      (br $ls))))
                (else
                  (block $zdone
                    (loop $lz
                      (br_if $zdone (i32.ge_s (local.get $ch) (local.get $c)))
                      (f32.store (local.get $dst) (f32.const 0))
                      (local.set $dst (i32.add (local.get $dst) (local.get $rowBytes)))
                      (local.set $ch (i32.add (local.get $ch) (i32.const 1)))
                      (br $lz)))))
              (local.set $col (i32.add (local.get $col) (i32.const 1)))
              (br_if $lox (i32.lt_s (local.tee $ox (i32.add (local.get $ox) (i32.const 1))) (local.get $ow))))
            (br_if $loy (i32.lt_s (local.tee $oy (i32.add (local.get $oy) (i32.const 1))) (local.get $oh))))
          (br_if $lb (i32.lt_s (local.tee $b (i32.add (local.get $b) (i32.const 1))) (local.get $n))))
        (br_if $lj (i32.lt_s (local.tee $j (i32.add (local.get $j) (i32.const 1))) (local.get $kw))))
      (br_if $li (i32.lt_s (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $kh)))))

  ;; c = a · b without packing: a [m, k] with rows $lda floats apart, b [k, n] and c [m, n] row-major, n a multiple
  ;; of 8. Register block of 4
  ;; rows × 8 columns (8 f32x4 accumulators, 2 vector loads of b and 4 splat loads of a per step of l), over
  ;; blocks of 256 values of l so that the rows of b in use stay in L2. Rows past m in the last block repeat row
  ;; m − 1 and are not stored. For the filter gradient, a = im2col_t(x) and b = dy: m = kh·kw·ci is small, k = the
  ;; pixel count is large, so XNNPACK's packing of b (all of dy) costs more than the product.
  (func (export "gemm_n8")
    (param $a i32) (param $b i32) (param $c i32) (param $m i32) (param $n i32) (param $k i32) (param $lda i32)
    (local $l0 i32) (local $l1 i32) (local $i i32) (local $j i32) (local $l i32)
    (local $a0 i32) (local $a1 i32) (local $a2 i32) (local $a3 i32) (local $pb i32) (local $pc i32) (local $rowB i32) (local $rowA i32)
    (local $x v128) (local $b0 v128) (local $b1 v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128) (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (memory.fill (local.get $c) (i32.const 0) (i32.shl (i32.mul (local.get $m) (local.get $n)) (i32.const 2)))
    (local.set $rowB (i32.shl (local.get $n) (i32.const 2)))
    (local.set $rowA (i32.shl (local.get $lda) (i32.const 2)))
    (local.set $l0 (i32.const 0))
    (block $done
      (loop $blocks
        (br_if $done (i32.ge_s (local.get $l0) (local.get $k)))
        (local.set $l1 (call $min (i32.add (local.get $l0) (i32.const 256)) (local.get $k)))
        (local.set $i (i32.const 0))
        (loop $rows
          (local.set $a0 (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $rowA))))
          (local.set $a1 (i32.add (local.get $a) (i32.mul (call $min (i32.add (local.get $i) (i32.const 1)) (i32.sub (local.get $m) (i32.const 1))) (local.get $rowA))))
          (local.set $a2 (i32.add (local.get $a) (i32.mul (call $min (i32.add (local.get $i) (i32.const 2)) (i32.sub (local.get $m) (i32.const 1))) (local.get $rowA))))
          (local.set $a3 (i32.add (local.get $a) (i32.mul (call $min (i32.add (local.get $i) (i32.const 3)) (i32.sub (local.get $m) (i32.const 1))) (local.get $rowA))))
          (local.set $j (i32.const 0))
          (loop $cols
            (local.set $pc (i32.add (local.get $c) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $j)) (i32.const 2))))
            (local.set $c00 (v128.load (local.get $pc)))
            (local.set $c01 (v128.load offset=16 (local.get $pc)))
            (if (i32.lt_s (i32.add (local.get $i) (i32.const 1)) (local.get $m))
              (then
                (local.set $c10 (v128.load (i32.add (local.get $pc) (local.get $rowB))))
                (local.set $c11 (v128.load offset=16 (i32.add (local.get $pc) (local.get $rowB))))))
            (if (i32.lt_s (i32.add (local.get $i) (i32.const 2)) (local.get $m))
              (then
                (local.set $c20 (v128.load (i32.add (local.get $pc) (i32.shl (local.get $rowB) (i32.const 1)))))
                (local.set $c21 (v128.load offset=16 (i32.add (local.get $pc) (i32.shl (local.get $rowB) (i32.const 1)))))))
            (if (i32.lt_s (i32.add (local.get $i) (i32.const 3)) (local.get $m))
              (then
                (local.set $c30 (v128.load (i32.add (local.get $pc) (i32.mul (local.get $rowB) (i32.const 3)))))
                (local.set $c31 (v128.load offset=16 (i32.add (local.get $pc) (i32.mul (local.get $rowB) (i32.const 3)))))))
            (local.set $pb (i32.add (local.get $b) (i32.add (i32.mul (local.get $l0) (local.get $rowB)) (i32.shl (local.get $j) (i32.const 2)))))
            (local.set $l (i32.shl (local.get $l0) (i32.const 2)))
            (loop $inner
              (local.set $b0 (v128.load (local.get $pb)))
              (local.set $b1 (v128.load offset=16 (local.get $pb)))
              (local.set $x (v128.load32_splat (i32.add (local.get $a0) (local.get $l))))
              (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $x) (local.get $b0))))
              (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $x) (local.get $b1))))
              (local.set $x (v128.load32_splat (i32.add (local.get $a1) (local.get $l))))
              (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $x) (local.get $b0))))
              (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $x) (local.get $b1))))
              (local.set $x (v128.load32_splat (i32.add (local.get $a2) (local.get $l))))
              (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $x) (local.get $b0))))
              (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $x) (local.get $b1))))
              (local.set $x (v128.load32_splat (i32.add (local.get $a3) (local.get $l))))
              (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $x) (local.get $b0))))
              (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $x) (local.get $b1))))
              (local.set $pb (i32.add (local.get $pb) (local.get $rowB)))
              (br_if $inner (i32.lt_s (local.tee $l (i32.add (local.get $l) (i32.const 4))) (i32.shl (local.get $l1) (i32.const 2)))))
            (v128.store (local.get $pc) (local.get $c00))
            (v128.store offset=16 (local.get $pc) (local.get $c01))
            (if (i32.lt_s (i32.add (local.get $i) (i32.const 1)) (local.get $m))
              (then
                (v128.store (i32.add (local.get $pc) (local.get $rowB)) (local.get $c10))
                (v128.store offset=16 (i32.add (local.get $pc) (local.get $rowB)) (local.get $c11))))
            (if (i32.lt_s (i32.add (local.get $i) (i32.const 2)) (local.get $m))
              (then
                (v128.store (i32.add (local.get $pc) (i32.shl (local.get $rowB) (i32.const 1))) (local.get $c20))
                (v128.store offset=16 (i32.add (local.get $pc) (i32.shl (local.get $rowB) (i32.const 1))) (local.get $c21))))
            (if (i32.lt_s (i32.add (local.get $i) (i32.const 3)) (local.get $m))
              (then
                (v128.store (i32.add (local.get $pc) (i32.mul (local.get $rowB) (i32.const 3))) (local.get $c30))
                (v128.store offset=16 (i32.add (local.get $pc) (i32.mul (local.get $rowB) (i32.const 3))) (local.get $c31))))
            (br_if $cols (i32.lt_s (local.tee $j (i32.add (local.get $j) (i32.const 8))) (local.get $n))))
          (br_if $rows (i32.lt_s (local.tee $i (i32.add (local.get $i) (i32.const 4))) (local.get $m))))
        (local.set $l0 (local.get $l1))
        (br $blocks))))

  ;; c[i][j] = Σ_l a[i][l]·b[j][l] (c = a · bᵀ) with a [m, k], b [n, k], c [m, n] row-major and k a multiple of 4:
  ;; dot products of contiguous rows, so bᵀ is never formed. Register block of 2 rows of a × 4 rows of b (8 f32x4
  ;; accumulators, horizontal sums at the end); b's 4 rows are the outer loop, so each row of b is read once while
  ;; a stays in cache. Rows past the end repeat the last one and are not stored.
  (func (export "gemm_nt")
    (param $a i32) (param $b i32) (param $c i32) (param $m i32) (param $n i32) (param $k i32)
    (local $i i32) (local $j i32) (local $l i32) (local $row i32) (local $kb i32)
    (local $pa0 i32) (local $pa1 i32) (local $pb0 i32) (local $pb1 i32) (local $pb2 i32) (local $pb3 i32) (local $pc i32)
    (local $x0 v128) (local $x1 v128) (local $y0 v128) (local $y1 v128) (local $y2 v128) (local $y3 v128)
    (local $s00 v128) (local $s01 v128) (local $s02 v128) (local $s03 v128) (local $s10 v128) (local $s11 v128) (local $s12 v128) (local $s13 v128)
    (local.set $row (i32.shl (local.get $k) (i32.const 2)))
    (local.set $j (i32.const 0))
    (loop $cols
      (local.set $pb0 (i32.add (local.get $b) (i32.mul (local.get $j) (local.get $row))))
      (local.set $pb1 (i32.add (local.get $b) (i32.mul (call $min (i32.add (local.get $j) (i32.const 1)) (i32.sub (local.get $n) (i32.const 1))) (local.get $row))))
      (local.set $pb2 (i32.add (local.get $b) (i32.mul (call $min (i32.add (local.get $j) (i32.const 2)) (i32.sub (local.get $n) (i32.const 1))) (local.get $row))))
      (local.set $pb3 (i32.add (local.get $b) (i32.mul (call $min (i32.add (local.get $j) (i32.const 3)) (i32.sub (local.get $n) (i32.const 1))) (local.get $row))))
      (local.set $i (i32.const 0))
      (loop $rows
        (local.set $pa0 (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $row))))
        (local.set $pa1 (i32.add (local.get $a) (i32.mul (call $min (i32.add (local.get $i) (i32.const 1)) (i32.sub (local.get $m) (i32.const 1))) (local.get $row))))
        (local.set $s00 (v128.const i32x4 0 0 0 0)) (local.set $s01 (v128.const i32x4 0 0 0 0))
        (local.set $s02 (v128.const i32x4 0 0 0 0)) (local.set $s03 (v128.const i32x4 0 0 0 0))
        (local.set $s10 (v128.const i32x4 0 0 0 0)) (local.set $s11 (v128.const i32x4 0 0 0 0))
        (local.set $s12 (v128.const i32x4 0 0 0 0)) (local.set $s13 (v128.const i32x4 0 0 0 0))
        (local.set $l (i32.const 0))
        (block $dotDone
          (loop $dot
            (br_if $dotDone (i32.ge_s (local.get $l) (local.get $row)))
            (local.set $x0 (v128.load align=4 (i32.add (local.get $pa0) (local.get $l))))
            (local.set $x1 (v128.load align=4 (i32.add (local.get $pa1) (local.get $l))))
            (local.set $y0 (v128.load align=4 (i32.add (local.get $pb0) (local.get $l))))
            (local.set $y1 (v128.load align=4 (i32.add (local.get $pb1) (local.get $l))))
            (local.set $y2 (v128.load align=4 (i32.add (local.get $pb2) (local.get $l))))
            (local.set $y3 (v128.load align=4 (i32.add (local.get $pb3) (local.get $l))))
            (local.set $s00 (f32x4.add (local.get $s00) (f32x4.mul (local.get $x0) (local.get $y0))))
            (local.set $s01 (f32x4.add (local.get $s01) (f32x4.mul (local.get $x0) (local.get $y1))))
            (local.set $s02 (f32x4.add (local.get $s02) (f32x4.mul (local.get $x0) (local.get $y2))))
            (local.set $s03 (f32x4.add (local.get $s03) (f32x4.mul (local.get $x0) (local.get $y3))))
            (local.set $s10 (f32x4.add (local.get $s10) (f32x4.mul (local.get $x1) (local.get $y0))))
            (local.set $s11 (f32x4.add (local.get $s11) (f32x4.mul (local.get $x1) (local.get $y1))))
            (local.set $s12 (f32x4.add (local.get $s12) (f32x4.mul (local.get $x1) (local.get $y2))))
            (local.set $s13 (f32x4.add (local.get $s13) (f32x4.mul (local.get $x1) (local.get $y3))))
            (local.set $l (i32.add (local.get $l) (i32.const 16)))
            (br $dot)))
        (local.set $pc (i32.add (local.get $c) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $j)) (i32.const 2))))
        (f32.store (local.get $pc) (call $hsum (local.get $s00)))
        (if (i32.lt_s (i32.add (local.get $j) (i32.const 1)) (local.get $n)) (then (f32.store offset=4 (local.get $pc) (call $hsum (local.get $s01)))))
        (if (i32.lt_s (i32.add (local.get $j) (i32.const 2)) (local.get $n)) (then (f32.store offset=8 (local.get $pc) (call $hsum (local.get $s02)))))
        (if (i32.lt_s (i32.add (local.get $j) (i32.const 3)) (local.get $n)) (then (f32.store offset=12 (local.get $pc) (call $hsum (local.get $s03)))))
        (if (i32.lt_s (i32.add (local.get $i) (i32.const 1)) (local.get $m))
          (then
            (local.set $pc (i32.add (local.get $pc) (i32.shl (local.get $n) (i32.const 2))))
            (f32.store (local.get $pc) (call $hsum (local.get $s10)))
            (if (i32.lt_s (i32.add (local.get $j) (i32.const 1)) (local.get $n)) (then (f32.store offset=4 (local.get $pc) (call $hsum (local.get $s11)))))
            (if (i32.lt_s (i32.add (local.get $j) (i32.const 2)) (local.get $n)) (then (f32.store offset=8 (local.get $pc) (call $hsum (local.get $s12)))))
            (if (i32.lt_s (i32.add (local.get $j) (i32.const 3)) (local.get $n)) (then (f32.store offset=12 (local.get $pc) (call $hsum (local.get $s13)))))))
        (br_if $rows (i32.lt_s (local.tee $i (i32.add (local.get $i) (i32.const 2))) (local.get $m))))
      (br_if $cols (i32.lt_s (local.tee $j (i32.add (local.get $j) (i32.const 4))) (local.get $n)))))

  ;; Max-pool gradient: each window's dy goes to the first maximum of x in the window (row-major order), as on the
  ;; cpu backend. Windows are clipped to x (padding never wins). Four channels per vector: pass 1 finds, per lane,
  ;; the element index of the maximum (of the group's first channel), pass 2 adds dy there. Then one channel at a
  ;; time for the last c mod 4. Without overlap (window ≤ stride) each element lies in at most one window, so pass 2
  ;; stores without reading dx back.
  (func (export "max_pool_grad")
    (param $x i32) (param $dy i32) (param $dx i32)
    (param $n i32) (param $h i32) (param $w i32) (param $c i32) (param $oh i32) (param $ow i32)
    (param $fh i32) (param $fw i32) (param $sh i32) (param $sw i32) (param $pt i32) (param $pl i32)
    (local $c4 i32) (local $b i32) (local $oy i32) (local $ox i32) (local $ys i32) (local $ye i32) (local $xs i32) (local $xe i32)
    (local $yy i32) (local $xx i32) (local $ch i32) (local $e i32) (local $dyp i32) (local $bestAt i32)
    (local $best v128) (local $idx v128) (local $v v128) (local $m v128) (local $g v128)
    (local $sbest f32) (local $sv f32) (local $overlap i32)
    (local.set $overlap (i32.or (i32.gt_s (local.get $fh) (local.get $sh)) (i32.gt_s (local.get $fw) (local.get $sw))))
    (memory.fill (local.get $dx) (i32.const 0)
      (i32.shl (i32.mul (i32.mul (local.get $n) (local.get $h)) (i32.mul (local.get $w) (local.get $c))) (i32.const 2)))
    (local.set $c4 (i32.and (local.get $c) (i32.const -4)))
    (local.set $dyp (local.get $dy))
    (local.set $b (i32.const 0))
    (loop $lb
      (local.set $oy (i32.const 0))
      (loop $loy
        (local.set $ys (i32.sub (i32.mul (local.get $oy) (local.get $sh)) (local.get $pt)))
        (local.set $ye (call $min (i32.add (local.get $ys) (local.get $fh)) (local.get $h)))
        (local.set $ys (call $max (local.get $ys) (i32.const 0)))
        (local.set $ox (i32.const 0))
        (loop $lox
          (local.set $xs (i32.sub (i32.mul (local.get $ox) (local.get $sw)) (local.get $pl)))
          (local.set $xe (call $min (i32.add (local.get $xs) (local.get $fw)) (local.get $w)))
          (local.set $xs (call $max (local.get $xs) (i32.const 0)))
          (if (i32.and (i32.lt_s (local.get $ys) (local.get $ye)) (i32.lt_s (local.get $xs) (local.get $xe)))
            (then
              (local.set $ch (i32.const 0))
              (block $vdone
                (loop $lv
                  (br_if $vdone (i32.ge_s (local.get $ch) (local.get $c4)))
                  (local.set $e (i32.add (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h)) (local.get $ys)) (local.get $w)) (local.get $xs)) (local.get $c)) (local.get $ch)))
                  (local.set $best (v128.load align=4 (i32.add (local.get $x) (i32.shl (local.get $e) (i32.const 2)))))
                  (local.set $idx (i32x4.splat (local.get $e)))
                  (local.set $yy (local.get $ys))
                  (loop $p1y
                    (local.set $xx (local.get $xs))
                    (loop $p1x
                      (local.set $e (i32.add (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h)) (local.get $yy)) (local.get $w)) (local.get $xx)) (local.get $c)) (local.get $ch)))
                      (local.set $v (v128.load align=4 (i32.add (local.get $x) (i32.shl (local.get $e) (i32.const 2)))))
                      (local.set $m (f32x4.gt (local.get $v) (local.get $best)))
                      (local.set $best (v128.bitselect (local.get $v) (local.get $best) (local.get $m)))
                      (local.set $idx (v128.bitselect (i32x4.splat (local.get $e)) (local.get $idx) (local.get $m)))
                      (br_if $p1x (i32.lt_s (local.tee $xx (i32.add (local.get $xx) (i32.const 1))) (local.get $xe))))
                    (br_if $p1y (i32.lt_s (local.tee $yy (i32.add (local.get $yy) (i32.const 1))) (local.get $ye))))
                  (local.set $g (v128.load align=4 (i32.add (local.get $dyp) (i32.shl (local.get $ch) (i32.const 2)))))
                  (local.set $yy (local.get $ys))
                  (loop $p2y
                    (local.set $xx (local.get $xs))
                    (loop $p2x
                      (local.set $e (i32.add (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h)) (local.get $yy)) (local.get $w)) (local.get $xx)) (local.get $c)) (local.get $ch)))
                      (local.set $m (v128.and (local.get $g) (i32x4.eq (local.get $idx) (i32x4.splat (local.get $e)))))
                      (local.set $e (i32.add (local.get $dx) (i32.shl (local.get $e) (i32.const 2))))
                      ;; branch-free: windows that cannot overlap store, others accumulate
                      (if (local.get $overlap)
                        (then (local.set $m (f32x4.add (v128.load align=4 (local.get $e)) (local.get $m)))))
                      (v128.store align=4 (local.get $e) (local.get $m))
                      (br_if $p2x (i32.lt_s (local.tee $xx (i32.add (local.get $xx) (i32.const 1))) (local.get $xe))))
                    (br_if $p2y (i32.lt_s (local.tee $yy (i32.add (local.get $yy) (i32.const 1))) (local.get $ye))))
                  (local.set $ch (i32.add (local.get $ch) (i32.const 4)))
                  (br $lv)))
              (block $sdone
                (loop $ls
                  (br_if $sdone (i32.ge_s (local.get $ch) (local.get $c)))
                  (local.set $bestAt (i32.const -1))
                  (local.set $yy (local.get $ys))
                  (loop $s1y
                    (local.set $xx (local.get $xs))
                    (loop $s1x
                      (local.set $e (i32.add (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h)) (local.get $yy)) (local.get $w)) (local.get $xx)) (local.get $c)) (local.get $ch)))
                      (local.set $sv (f32.load (i32.add (local.get $x) (i32.shl (local.get $e) (i32.const 2)))))
                      (if (i32.or (i32.lt_s (local.get $bestAt) (i32.const 0)) (f32.gt (local.get $sv) (local.get $sbest)))
                        (then (local.set $sbest (local.get $sv)) (local.set $bestAt (local.get $e))))
                      (br_if $s1x (i32.lt_s (local.tee $xx (i32.add (local.get $xx) (i32.const 1))) (local.get $xe))))
                    (br_if $s1y (i32.lt_s (local.tee $yy (i32.add (local.get $yy) (i32.const 1))) (local.get $ye))))
                  (local.set $e (i32.add (local.get $dx) (i32.shl (local.get $bestAt) (i32.const 2))))
                  (f32.store (local.get $e)
                    (f32.add (f32.load (local.get $e)) (f32.load (i32.add (local.get $dyp) (i32.shl (local.get $ch) (i32.const 2))))))
                  (local.set $ch (i32.add (local.get $ch) (i32.const 1)))
                  (br $ls)))))
          (local.set $dyp (i32.add (local.get $dyp) (i32.shl (local.get $c) (i32.const 2))))
          (br_if $lox (i32.lt_s (local.tee $ox (i32.add (local.get $ox) (i32.const 1))) (local.get $ow))))
        (br_if $loy (i32.lt_s (local.tee $oy (i32.add (local.get $oy) (i32.const 1))) (local.get $oh))))
      (br_if $lb (i32.lt_s (local.tee $b (i32.add (local.get $b) (i32.const 1))) (local.get $n)))))

  ;; Gradient of y = relu(z + bias) given dy: dz = dy where y > 0, else 0; dbias[ch] = Σ_p dz[p, ch], summed over
  ;; the $pixels rows in order. Four channels per vector, then the last c mod 4 one at a time.
  (func (export "relu_bias_grad")
    (param $y i32) (param $dy i32) (param $dz i32) (param $dbias i32) (param $pixels i32) (param $c i32)
    (local $c4 i32) (local $p i32) (local $ch i32) (local $o i32) (local $ob i32) (local $v v128) (local $zero v128) (local $s f32)
    (memory.fill (local.get $dbias) (i32.const 0) (i32.shl (local.get $c) (i32.const 2)))
    (local.set $c4 (i32.and (local.get $c) (i32.const -4)))
    (local.set $zero (v128.const i32x4 0 0 0 0))
    (local.set $o (i32.const 0))
    (local.set $p (i32.const 0))
    (block $done
      (loop $lp
        (br_if $done (i32.ge_s (local.get $p) (local.get $pixels)))
        (local.set $ch (i32.const 0))
        (local.set $ob (local.get $dbias))
        (block $vdone
          (loop $lv
            (br_if $vdone (i32.ge_s (local.get $ch) (local.get $c4)))
            (local.set $v
              (v128.and (v128.load align=4 (i32.add (local.get $dy) (local.get $o)))
                (f32x4.gt (v128.load align=4 (i32.add (local.get $y) (local.get $o))) (local.get $zero))))
            (v128.store align=4 (i32.add (local.get $dz) (local.get $o)) (local.get $v))
            (v128.store align=4 (local.get $ob) (f32x4.add (v128.load align=4 (local.get $ob)) (local.get $v)))
            (local.set $o (i32.add (local.get $o) (i32.const 16)))
            (local.set $ob (i32.add (local.get $ob) (i32.const 16)))
            (local.set $ch (i32.add (local.get $ch) (i32.const 4)))
            (br $lv)))
        (block $sdone
          (loop $ls
            (br_if $sdone (i32.ge_s (local.get $ch) (local.get $c)))
            (local.set $s
              (select (f32.load (i32.add (local.get $dy) (local.get $o))) (f32.const 0)
                (f32.gt (f32.load (i32.add (local.get $y) (local.get $o))) (f32.const 0))))
            (f32.store (i32.add (local.get $dz) (local.get $o)) (local.get $s))
            (f32.store (local.get $ob) (f32.add (f32.load (local.get $ob)) (local.get $s)))
            (local.set $o (i32.add (local.get $o) (i32.const 4)))
            (local.set $ob (i32.add (local.get $ob) (i32.const 4)))
            (local.set $ch (i32.add (local.get $ch) (i32.const 1)))
            (br $ls)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $lp))))

  ;; The filter of the input gradient: out[kh−1−i, kw−1−j, o, a] = w[i, j, a, o] (rotated 180°, channels swapped).
  (func (export "rotate_filter")
    (param $wp i32) (param $out i32) (param $kh i32) (param $kw i32) (param $ci i32) (param $co i32)
    (local $i i32) (local $j i32) (local $a i32) (local $o i32) (local $src i32) (local $dst i32)
    (local.set $src (local.get $wp))
    (local.set $i (i32.const 0))
    (loop $li
      (local.set $j (i32.const 0))
      (loop $lj
        (local.set $a (i32.const 0))
        (loop $la
          (local.set $dst
            (i32.add (local.get $out)
              (i32.shl
                (i32.add
                  (i32.mul
                    (i32.add
                      (i32.mul (i32.sub (i32.sub (local.get $kh) (i32.const 1)) (local.get $i)) (local.get $kw))
                      (i32.sub (i32.sub (local.get $kw) (i32.const 1)) (local.get $j)))
                    (i32.mul (local.get $co) (local.get $ci)))
                  (local.get $a))
                (i32.const 2))))
          (local.set $o (i32.const 0))
          (loop $lo
            (f32.store (local.get $dst) (f32.load (local.get $src)))
            (local.set $src (i32.add (local.get $src) (i32.const 4)))
            (local.set $dst (i32.add (local.get $dst) (i32.shl (local.get $ci) (i32.const 2))))
            (br_if $lo (i32.lt_s (local.tee $o (i32.add (local.get $o) (i32.const 1))) (local.get $co))))
          (br_if $la (i32.lt_s (local.tee $a (i32.add (local.get $a) (i32.const 1))) (local.get $ci))))
        (br_if $lj (i32.lt_s (local.tee $j (i32.add (local.get $j) (i32.const 1))) (local.get $kw))))
      (br_if $li (i32.lt_s (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $kh)))))
)
