// tfjs-core's Node entry point registers kernels but no gradients; its `dist/register_all_gradients.js` is an
// extension-less ES module that Node cannot load. tfjs-layers' Node bundle registers every gradient of tfjs-core
// into the process-global registry that tfjs-core reads (one registry for the whole process), so loading it for
// its side effect makes `tf.grads` / `tf.variableGrads` work. It is loaded by `require`, not `import`, so the
// declaration files do not import tfjs-layers: its types fail a strict consumer without skipLibCheck.
import { createRequire } from "node:module";

createRequire(import.meta.url)("@tensorflow/tfjs-layers");
