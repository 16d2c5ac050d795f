// Provided by scripts/build-playground.mjs: the examples of playground/examples/index.json,
// each with its program and data files.
declare module "virtual:examples" {
  const examples: { id: string; title: string; group: string; description: string; program: string; files: Record<string, string> }[];
  export default examples;
}
