import { runEncrypterSuite } from "./encrypter_suite.ts";
import { NoiseEncrypter } from "../../protocols/noise/service.ts";
import { PlaintextEncrypter } from "../../protocols/plaintext/service.ts";

runEncrypterSuite("noise", (privateKey) => new NoiseEncrypter({ privateKey }), {
  detectsTampering: true,
});
runEncrypterSuite("plaintext", (privateKey) => new PlaintextEncrypter({ privateKey }), {
  detectsTampering: false,
});
