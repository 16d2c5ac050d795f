// Property test: mutate valid programs thousands of times and check that the compiler never
// throws, never reports an internal error (E9999), never takes long, and that every diagnostic
// points inside the file and renders. fast-check prints the seed and the shrunk input on failure.
import { propertySuite } from "./property-cases";

// 300 mutations here; property.stress.test.ts (`npm run test:stress`) runs 5,000.
propertySuite("compile() on mutated programs", 300);
