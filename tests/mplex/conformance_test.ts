// The shared stream-muxer conformance suite (tests/conformance/muxer_suite.ts) run for mplex.
import { runMuxerSuite } from "../conformance/muxer_suite.ts";
import { mplex } from "../../protocols/mplex/mod.ts";

runMuxerSuite("mplex", () => mplex());
