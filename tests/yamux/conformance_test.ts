// Runs the muxer conformance suite against our yamux.
import { yamux } from "../../protocols/yamux/mod.ts";
import { runMuxerSuite } from "../conformance/muxer_suite.ts";

runMuxerSuite("yamux", () => yamux());
