// jstat ships no types; only what the bench calls is declared.
declare module "jstat" {
  const jstat: {
    readonly jStat: {
      /** Student's t distribution. */
      readonly studentt: {
        /** The p-quantile with `dof` degrees of freedom. */
        inv(p: number, dof: number): number;
      };
    };
  };
  export default jstat;
}
