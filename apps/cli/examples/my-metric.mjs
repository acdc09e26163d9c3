// apps/cli/examples/my-metric.mjs: mean recall of the three rarest classes
export const name = "tail-recall";
export function psi(cm) {
  const k = cm.numClasses;
  const recall = (c) => {
    let row = 0;
    for (let j = 0; j < k; j++) row += cm.values[c * k + j];
    return cm.values[c * k + c] / row;
  };
  return (recall(7) + recall(8) + recall(9)) / 3;
}
