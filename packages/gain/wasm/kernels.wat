;; Float64 matrix kernels of @selmix/gain with WebAssembly SIMD (f64x2).
;;
;; Compiled by scripts/build-wasm.mjs (wabt) into src/kernels-wasm-bytes.ts; edit this file, then run
;; `pnpm build:wasm` in packages/gain (a test fails when the two disagree). All pointers are byte offsets into the
;; exported memory, all matrices row-major float64. Results equal the JS kernels of src/linalg.ts up to summation
;; order.
;;
;; Both kernels are dot-product kernels over contiguous rows. A register block of outputs (rows i.. of the left
;; operand against rows j.. of the right one) keeps f64x2 accumulators over l, two l's per vector, plus one
;; zero-padded vector (v128.load64_zero) for the last l of an odd row length, and ends with a horizontal add. Rows
;; or columns past the end of an odd-sized edge block are clamped to the last one (i + 2 -> min(i + 2, m - 1)), so
;; the edge block computes a row or column twice and stores the same value twice. The block loop is tiled over the
;; right operand's rows so that one tile of them (~256 KiB) stays in L2 while every row block of the left passes.
;;
;; Block shapes were picked by measurement on V8 11 (Node 20, x64 with AVX, no FMA): larger blocks spill
;; accumulators (x64 has 16 xmm registers), smaller ones issue too many loads per multiply.
;;   matmul_t:   2 rows x 4 columns, 8 accumulators, 6 loads per 8 vector multiply-adds.
;;   fused_rows: 3 rows x 1 column, 6 accumulators (3 of S, 3 of N), 8 loads per 9 vector multiply-adds.

(module
  (memory (export "memory") 1)

  ;; Rows of the right operand per tile: about $tileBytes of $arrays arrays of rows of k doubles, a multiple of 4
  ;; (the widest column block), at least 4.
  (func $tile (param $k i32) (param $tileBytes i32) (param $arrays i32) (result i32)
    (local $t i32)
    (local.set $t
      (i32.and
        (i32.div_u (local.get $tileBytes)
          (i32.mul (i32.mul (local.get $arrays) (i32.const 8))
            (select (local.get $k) (i32.const 1) (i32.gt_u (local.get $k) (i32.const 0)))))
        (i32.const -4)))
    (select (local.get $t) (i32.const 4) (i32.gt_u (local.get $t) (i32.const 4))))

  (func $min (param $x i32) (param $y i32) (result i32)
    (select (local.get $x) (local.get $y) (i32.lt_s (local.get $x) (local.get $y))))

  (func $hsum (param $v v128) (result f64)
    (f64.add (f64x2.extract_lane 0 (local.get $v)) (f64x2.extract_lane 1 (local.get $v))))

  ;; out[i][j] = Σ_l a[i][l]·b[j][l]; a [m, k], b [n, k], out [m, n]. A band of rows is a call on offset pointers
  ;; (a + i0·k·8, out + i0·n·8).
  (func (export "matmul_t")
    (param $a i32) (param $b i32) (param $out i32) (param $m i32) (param $n i32) (param $k i32)
    (local $row i32) (local $vecEnd i32) (local $tile i32) (local $j0 i32) (local $j1 i32) (local $i i32) (local $j i32) (local $l i32)
    (local $i0 i32) (local $pa0 i32) (local $o0 i32) (local $i1 i32) (local $pa1 i32) (local $o1 i32)
    (local $jc0 i32) (local $pb0 i32) (local $jc1 i32) (local $pb1 i32) (local $jc2 i32) (local $pb2 i32) (local $jc3 i32) (local $pb3 i32)
    (local $x0 v128) (local $x1 v128) (local $y0 v128) (local $y1 v128) (local $y2 v128) (local $y3 v128)
    (local $c00 v128) (local $c01 v128) (local $c02 v128) (local $c03 v128) (local $c10 v128) (local $c11 v128) (local $c12 v128) (local $c13 v128)
    (local.set $row (i32.shl (local.get $k) (i32.const 3)))
    (local.set $vecEnd (i32.shl (i32.and (local.get $k) (i32.const -2)) (i32.const 3)))
    (local.set $tile (call $tile (local.get $k) (i32.const 262144) (i32.const 1)))
    (local.set $j0 (i32.const 0))
    (block $done
      (loop $tiles
        (br_if $done (i32.ge_s (local.get $j0) (local.get $n)))
        (local.set $j1 (call $min (i32.add (local.get $j0) (local.get $tile)) (local.get $n)))
        (local.set $i (i32.const 0))
        (block $rowsDone
          (loop $rows
            (br_if $rowsDone (i32.ge_s (local.get $i) (local.get $m)))
            (local.set $i0 (local.get $i))
            (local.set $pa0 (i32.add (local.get $a) (i32.mul (local.get $i0) (local.get $row))))
            (local.set $o0 (i32.add (local.get $out) (i32.shl (i32.mul (local.get $i0) (local.get $n)) (i32.const 3))))
            (local.set $i1 (call $min (i32.add (local.get $i) (i32.const 1)) (i32.sub (local.get $m) (i32.const 1))))
            (local.set $pa1 (i32.add (local.get $a) (i32.mul (local.get $i1) (local.get $row))))
            (local.set $o1 (i32.add (local.get $out) (i32.shl (i32.mul (local.get $i1) (local.get $n)) (i32.const 3))))
            (local.set $j (local.get $j0))
            (block $colsDone
              (loop $cols
                (br_if $colsDone (i32.ge_s (local.get $j) (local.get $j1)))
                (local.set $jc0 (local.get $j))
                (local.set $pb0 (i32.add (local.get $b) (i32.mul (local.get $jc0) (local.get $row))))
                (local.set $jc1 (call $min (i32.add (local.get $j) (i32.const 1)) (i32.sub (local.get $j1) (i32.const 1))))
                (local.set $pb1 (i32.add (local.get $b) (i32.mul (local.get $jc1) (local.get $row))))
                (local.set $jc2 (call $min (i32.add (local.get $j) (i32.const 2)) (i32.sub (local.get $j1) (i32.const 1))))
                (local.set $pb2 (i32.add (local.get $b) (i32.mul (local.get $jc2) (local.get $row))))
                (local.set $jc3 (call $min (i32.add (local.get $j) (i32.const 3)) (i32.sub (local.get $j1) (i32.const 1))))
                (local.set $pb3 (i32.add (local.get $b) (i32.mul (local.get $jc3) (local.get $row))))
                (local.set $c00 (v128.const i64x2 0 0))
                (local.set $c01 (v128.const i64x2 0 0))
                (local.set $c02 (v128.const i64x2 0 0))
                (local.set $c03 (v128.const i64x2 0 0))
                (local.set $c10 (v128.const i64x2 0 0))
                (local.set $c11 (v128.const i64x2 0 0))
                (local.set $c12 (v128.const i64x2 0 0))
                (local.set $c13 (v128.const i64x2 0 0))
                (local.set $l (i32.const 0))
                (block $lDone
                  (loop $ls
                    (br_if $lDone (i32.ge_u (local.get $l) (local.get $vecEnd)))
                    (local.set $x0 (v128.load (i32.add (local.get $pa0) (local.get $l))))
                    (local.set $x1 (v128.load (i32.add (local.get $pa1) (local.get $l))))
                    (local.set $y0 (v128.load (i32.add (local.get $pb0) (local.get $l))))
                    (local.set $y1 (v128.load (i32.add (local.get $pb1) (local.get $l))))
                    (local.set $y2 (v128.load (i32.add (local.get $pb2) (local.get $l))))
                    (local.set $y3 (v128.load (i32.add (local.get $pb3) (local.get $l))))
                    (local.set $c00 (f64x2.add (local.get $c00) (f64x2.mul (local.get $x0) (local.get $y0))))
                    (local.set $c01 (f64x2.add (local.get $c01) (f64x2.mul (local.get $x0) (local.get $y1))))
                    (local.set $c02 (f64x2.add (local.get $c02) (f64x2.mul (local.get $x0) (local.get $y2))))
                    (local.set $c03 (f64x2.add (local.get $c03) (f64x2.mul (local.get $x0) (local.get $y3))))
                    (local.set $c10 (f64x2.add (local.get $c10) (f64x2.mul (local.get $x1) (local.get $y0))))
                    (local.set $c11 (f64x2.add (local.get $c11) (f64x2.mul (local.get $x1) (local.get $y1))))
                    (local.set $c12 (f64x2.add (local.get $c12) (f64x2.mul (local.get $x1) (local.get $y2))))
                    (local.set $c13 (f64x2.add (local.get $c13) (f64x2.mul (local.get $x1) (local.get $y3))))
                    (local.set $l (i32.add (local.get $l) (i32.const 16)))
                    (br $ls)))
                ;; the last l of an odd k, upper lanes zero
                (if (i32.and (local.get $k) (i32.const 1))
                  (then
                    (local.set $x0 (v128.load64_zero (i32.add (local.get $pa0) (local.get $l))))
                    (local.set $x1 (v128.load64_zero (i32.add (local.get $pa1) (local.get $l))))
                    (local.set $y0 (v128.load64_zero (i32.add (local.get $pb0) (local.get $l))))
                    (local.set $y1 (v128.load64_zero (i32.add (local.get $pb1) (local.get $l))))
                    (local.set $y2 (v128.load64_zero (i32.add (local.get $pb2) (local.get $l))))
                    (local.set $y3 (v128.load64_zero (i32.add (local.get $pb3) (local.get $l))))
                    (local.set $c00 (f64x2.add (local.get $c00) (f64x2.mul (local.get $x0) (local.get $y0))))
                    (local.set $c01 (f64x2.add (local.get $c01) (f64x2.mul (local.get $x0) (local.get $y1))))
                    (local.set $c02 (f64x2.add (local.get $c02) (f64x2.mul (local.get $x0) (local.get $y2))))
                    (local.set $c03 (f64x2.add (local.get $c03) (f64x2.mul (local.get $x0) (local.get $y3))))
                    (local.set $c10 (f64x2.add (local.get $c10) (f64x2.mul (local.get $x1) (local.get $y0))))
                    (local.set $c11 (f64x2.add (local.get $c11) (f64x2.mul (local.get $x1) (local.get $y1))))
                    (local.set $c12 (f64x2.add (local.get $c12) (f64x2.mul (local.get $x1) (local.get $y2))))
                    (local.set $c13 (f64x2.add (local.get $c13) (f64x2.mul (local.get $x1) (local.get $y3))))
                  ))
                (f64.store (i32.add (local.get $o0) (i32.shl (local.get $jc0) (i32.const 3))) (call $hsum (local.get $c00)))
                (f64.store (i32.add (local.get $o0) (i32.shl (local.get $jc1) (i32.const 3))) (call $hsum (local.get $c01)))
                (f64.store (i32.add (local.get $o0) (i32.shl (local.get $jc2) (i32.const 3))) (call $hsum (local.get $c02)))
                (f64.store (i32.add (local.get $o0) (i32.shl (local.get $jc3) (i32.const 3))) (call $hsum (local.get $c03)))
                (f64.store (i32.add (local.get $o1) (i32.shl (local.get $jc0) (i32.const 3))) (call $hsum (local.get $c10)))
                (f64.store (i32.add (local.get $o1) (i32.shl (local.get $jc1) (i32.const 3))) (call $hsum (local.get $c11)))
                (f64.store (i32.add (local.get $o1) (i32.shl (local.get $jc2) (i32.const 3))) (call $hsum (local.get $c12)))
                (f64.store (i32.add (local.get $o1) (i32.shl (local.get $jc3) (i32.const 3))) (call $hsum (local.get $c13)))
                (local.set $j (i32.add (local.get $j) (i32.const 4)))
                (br $cols)))
            (local.set $i (i32.add (local.get $i) (i32.const 2)))
            (br $rows)))
        (local.set $j0 (i32.add (local.get $j0) (local.get $tile)))
        (br $tiles))))

  ;; S = E1·E2ᵀ and N = P1·E2ᵀ + E1·Q2ᵀ, all [k, k]: rows [i0, i1) of S and N. A band of rows can also be a call
  ;; with i0 = 0 on pointers offset by the band's first row (rows of E1, P1, S and N are indexed alike).
  (func $fused_rows (export "fused_rows")
    (param $e1 i32) (param $p1 i32) (param $e2 i32) (param $q2 i32) (param $s i32) (param $nOut i32) (param $k i32)
    (param $i0 i32) (param $i1 i32)
    (local $row i32) (local $vecEnd i32) (local $tile i32) (local $j0 i32) (local $j1 i32) (local $i i32) (local $j i32) (local $l i32) (local $t v128)
    (local $ra0 i32) (local $pe0 i32) (local $pp0 i32) (local $ve0 v128)
    (local $ra1 i32) (local $pe1 i32) (local $pp1 i32) (local $ve1 v128)
    (local $ra2 i32) (local $pe2 i32) (local $pp2 i32) (local $ve2 v128)
    (local $cb0 i32) (local $jc0 i32) (local $pf0 i32) (local $pq0 i32) (local $vf0 v128)
    (local $s00 v128) (local $n00 v128) (local $s10 v128) (local $n10 v128) (local $s20 v128) (local $n20 v128)
    (local.set $row (i32.shl (local.get $k) (i32.const 3)))
    (local.set $vecEnd (i32.shl (i32.and (local.get $k) (i32.const -2)) (i32.const 3)))
    (local.set $tile (call $tile (local.get $k) (i32.const 262144) (i32.const 2)))
    (local.set $j0 (i32.const 0))
    (block $done
      (loop $tiles
        (br_if $done (i32.ge_s (local.get $j0) (local.get $k)))
        (local.set $j1 (call $min (i32.add (local.get $j0) (local.get $tile)) (local.get $k)))
        (local.set $i (local.get $i0))
        (block $rowsDone
          (loop $rows
            (br_if $rowsDone (i32.ge_s (local.get $i) (local.get $i1)))
            (local.set $ra0 (i32.mul (local.get $i) (local.get $row)))
            (local.set $pe0 (i32.add (local.get $e1) (local.get $ra0)))
            (local.set $pp0 (i32.add (local.get $p1) (local.get $ra0)))
            (local.set $ra1 (i32.mul (call $min (i32.add (local.get $i) (i32.const 1)) (i32.sub (local.get $i1) (i32.const 1))) (local.get $row)))
            (local.set $pe1 (i32.add (local.get $e1) (local.get $ra1)))
            (local.set $pp1 (i32.add (local.get $p1) (local.get $ra1)))
            (local.set $ra2 (i32.mul (call $min (i32.add (local.get $i) (i32.const 2)) (i32.sub (local.get $i1) (i32.const 1))) (local.get $row)))
            (local.set $pe2 (i32.add (local.get $e1) (local.get $ra2)))
            (local.set $pp2 (i32.add (local.get $p1) (local.get $ra2)))
            (local.set $j (local.get $j0))
            (block $colsDone
              (loop $cols
                (br_if $colsDone (i32.ge_s (local.get $j) (local.get $j1)))
                (local.set $jc0 (local.get $j))
                (local.set $cb0 (i32.mul (local.get $jc0) (local.get $row)))
                (local.set $pf0 (i32.add (local.get $e2) (local.get $cb0)))
                (local.set $pq0 (i32.add (local.get $q2) (local.get $cb0)))
                (local.set $s00 (v128.const i64x2 0 0))
                (local.set $n00 (v128.const i64x2 0 0))
                (local.set $s10 (v128.const i64x2 0 0))
                (local.set $n10 (v128.const i64x2 0 0))
                (local.set $s20 (v128.const i64x2 0 0))
                (local.set $n20 (v128.const i64x2 0 0))
                (local.set $l (i32.const 0))
                (block $lDone
                  (loop $ls
                    (br_if $lDone (i32.ge_u (local.get $l) (local.get $vecEnd)))
                    (local.set $vf0 (v128.load (i32.add (local.get $pf0) (local.get $l))))
                    (local.set $ve0 (v128.load (i32.add (local.get $pe0) (local.get $l))))
                    (local.set $s00 (f64x2.add (local.get $s00) (f64x2.mul (local.get $ve0) (local.get $vf0))))
                    (local.set $ve1 (v128.load (i32.add (local.get $pe1) (local.get $l))))
                    (local.set $s10 (f64x2.add (local.get $s10) (f64x2.mul (local.get $ve1) (local.get $vf0))))
                    (local.set $ve2 (v128.load (i32.add (local.get $pe2) (local.get $l))))
                    (local.set $s20 (f64x2.add (local.get $s20) (f64x2.mul (local.get $ve2) (local.get $vf0))))
                    (local.set $t (v128.load (i32.add (local.get $pp0) (local.get $l))))
                    (local.set $n00 (f64x2.add (local.get $n00) (f64x2.mul (local.get $t) (local.get $vf0))))
                    (local.set $t (v128.load (i32.add (local.get $pp1) (local.get $l))))
                    (local.set $n10 (f64x2.add (local.get $n10) (f64x2.mul (local.get $t) (local.get $vf0))))
                    (local.set $t (v128.load (i32.add (local.get $pp2) (local.get $l))))
                    (local.set $n20 (f64x2.add (local.get $n20) (f64x2.mul (local.get $t) (local.get $vf0))))
                    (local.set $t (v128.load (i32.add (local.get $pq0) (local.get $l))))
                    (local.set $n00 (f64x2.add (local.get $n00) (f64x2.mul (local.get $ve0) (local.get $t))))
                    (local.set $n10 (f64x2.add (local.get $n10) (f64x2.mul (local.get $ve1) (local.get $t))))
                    (local.set $n20 (f64x2.add (local.get $n20) (f64x2.mul (local.get $ve2) (local.get $t))))
                    (local.set $l (i32.add (local.get $l) (i32.const 16)))
                    (br $ls)))
                ;; the last l of an odd k, upper lanes zero
                (if (i32.and (local.get $k) (i32.const 1))
                  (then
                    (local.set $vf0 (v128.load64_zero (i32.add (local.get $pf0) (local.get $l))))
                    (local.set $ve0 (v128.load64_zero (i32.add (local.get $pe0) (local.get $l))))
                    (local.set $s00 (f64x2.add (local.get $s00) (f64x2.mul (local.get $ve0) (local.get $vf0))))
                    (local.set $ve1 (v128.load64_zero (i32.add (local.get $pe1) (local.get $l))))
                    (local.set $s10 (f64x2.add (local.get $s10) (f64x2.mul (local.get $ve1) (local.get $vf0))))
                    (local.set $ve2 (v128.load64_zero (i32.add (local.get $pe2) (local.get $l))))
                    (local.set $s20 (f64x2.add (local.get $s20) (f64x2.mul (local.get $ve2) (local.get $vf0))))
                    (local.set $t (v128.load64_zero (i32.add (local.get $pp0) (local.get $l))))
                    (local.set $n00 (f64x2.add (local.get $n00) (f64x2.mul (local.get $t) (local.get $vf0))))
                    (local.set $t (v128.load64_zero (i32.add (local.get $pp1) (local.get $l))))
                    (local.set $n10 (f64x2.add (local.get $n10) (f64x2.mul (local.get $t) (local.get $vf0))))
                    (local.set $t (v128.load64_zero (i32.add (local.get $pp2) (local.get $l))))
                    (local.set $n20 (f64x2.add (local.get $n20) (f64x2.mul (local.get $t) (local.get $vf0))))
                    (local.set $t (v128.load64_zero (i32.add (local.get $pq0) (local.get $l))))
                    (local.set $n00 (f64x2.add (local.get $n00) (f64x2.mul (local.get $ve0) (local.get $t))))
                    (local.set $n10 (f64x2.add (local.get $n10) (f64x2.mul (local.get $ve1) (local.get $t))))
                    (local.set $n20 (f64x2.add (local.get $n20) (f64x2.mul (local.get $ve2) (local.get $t))))
                  ))
                (f64.store (i32.add (local.get $s) (i32.add (local.get $ra0) (i32.shl (local.get $jc0) (i32.const 3)))) (call $hsum (local.get $s00)))
                (f64.store (i32.add (local.get $nOut) (i32.add (local.get $ra0) (i32.shl (local.get $jc0) (i32.const 3)))) (call $hsum (local.get $n00)))
                (f64.store (i32.add (local.get $s) (i32.add (local.get $ra1) (i32.shl (local.get $jc0) (i32.const 3)))) (call $hsum (local.get $s10)))
                (f64.store (i32.add (local.get $nOut) (i32.add (local.get $ra1) (i32.shl (local.get $jc0) (i32.const 3)))) (call $hsum (local.get $n10)))
                (f64.store (i32.add (local.get $s) (i32.add (local.get $ra2) (i32.shl (local.get $jc0) (i32.const 3)))) (call $hsum (local.get $s20)))
                (f64.store (i32.add (local.get $nOut) (i32.add (local.get $ra2) (i32.shl (local.get $jc0) (i32.const 3)))) (call $hsum (local.get $n20)))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $cols)))
            (local.set $i (i32.add (local.get $i) (i32.const 3)))
            (br $rows)))
        (local.set $j0 (i32.add (local.get $j0) (local.get $tile)))
        (br $tiles))))

  ;; The whole fused product: rows [0, k).
  (func (export "fused")
    (param $e1 i32) (param $p1 i32) (param $e2 i32) (param $q2 i32) (param $s i32) (param $nOut i32) (param $k i32)
    (call $fused_rows (local.get $e1) (local.get $p1) (local.get $e2) (local.get $q2) (local.get $s) (local.get $nOut)
      (local.get $k) (i32.const 0) (local.get $k)))
)
