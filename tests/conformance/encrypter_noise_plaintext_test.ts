import { noise } from "../../protocols/noise/mod.ts";
import { plaintext } from "../../protocols/plaintext/mod.ts";
import { runEncrypterSuite } from "./encrypter_suite.ts";

runEncrypterSuite("noise", (privateKey) => noise({ privateKey }), { detectsTampering: true });
runEncrypterSuite("plaintext", (privateKey) => plaintext({ privateKey }), {
  detectsTampering: false,
});
