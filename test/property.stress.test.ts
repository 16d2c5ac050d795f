// The property test of property.test.ts with 5,000 mutations (`npm run test:stress`).
import { propertySuite } from "./property-cases";

propertySuite("compile() on mutated programs (stress)", 5000);
