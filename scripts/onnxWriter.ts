// Builds small ONNX models (float tensors, a few ops) from plain descriptions, for the demo policy and test fixtures.
import { ATTR_FLOAT, ATTR_INT, ATTR_INTS, ONNX_FLOAT, ONNX_INT64, onnxSchema } from './onnxSchema';

/** A constant tensor stored in the graph; float32 unless `int64` is set (e.g. a Reshape target shape). */
export interface InitializerSpec {
  name: string;
  dims: readonly number[];
  data: ArrayLike<number>;
  int64?: boolean;
}

export type AttrValue = { int: number } | { float: number } | { ints: readonly number[] };

export interface NodeSpec {
  op: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  attrs?: Record<string, AttrValue>;
}

/** A float32 graph input or output; a string dimension is symbolic (e.g. "batch"). */
export interface IoSpec {
  name: string;
  shape: readonly (number | string)[];
}

export interface ModelSpec {
  graphName: string;
  inputs: readonly IoSpec[];
  outputs: readonly IoSpec[];
  nodes: readonly NodeSpec[];
  initializers: readonly InitializerSpec[];
  /** Default opset 13: every op used here exists in it and onnxruntime-web supports it. */
  opset?: number;
  docString?: string;
}

const IR_VERSION = 8;
const PRODUCER = 'lockstep-onnx-writer';

/** Encodes a model; the bytes are a pure function of the spec, so generated files can be checked for drift. */
export function encodeModel(spec: ModelSpec): Uint8Array {
  for (const init of spec.initializers) {
    const count = init.dims.reduce((a, b) => a * b, 1);
    if (count !== init.data.length) {
      throw new Error(`initializer "${init.name}": dims ${JSON.stringify(init.dims)} hold ${count} values but ${init.data.length} were given`);
    }
  }
  const ModelProto = onnxSchema().lookupType('onnx.ModelProto');
  const message = {
    irVersion: IR_VERSION,
    producerName: PRODUCER,
    producerVersion: '1',
    docString: spec.docString ?? '',
    opsetImport: [{ domain: '', version: spec.opset ?? 13 }],
    graph: {
      name: spec.graphName,
      node: spec.nodes.map((n, i) => ({
        input: [...n.inputs],
        output: [...n.outputs],
        name: n.name ?? `${n.op.toLowerCase()}_${i}`,
        opType: n.op,
        attribute: Object.entries(n.attrs ?? {}).map(([name, v]) => encodeAttr(name, v)),
      })),
      initializer: spec.initializers.map(encodeInitializer),
      input: spec.inputs.map(encodeIo),
      output: spec.outputs.map(encodeIo),
    },
  };
  const problem = ModelProto.verify(message);
  if (problem) throw new Error(`internal: ONNX message does not fit the schema: ${problem}`);
  return ModelProto.encode(ModelProto.fromObject(message)).finish();
}

function encodeAttr(name: string, v: AttrValue): Record<string, unknown> {
  if ('int' in v) return { name, type: ATTR_INT, i: v.int };
  if ('float' in v) return { name, type: ATTR_FLOAT, f: v.float };
  return { name, type: ATTR_INTS, ints: [...v.ints] };
}

function encodeInitializer(t: InitializerSpec): Record<string, unknown> {
  // raw_data is little-endian per the spec; DataView makes that explicit regardless of the host.
  const width = t.int64 ? 8 : 4;
  const bytes = new Uint8Array(t.data.length * width);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < t.data.length; i++) {
    if (t.int64) view.setBigInt64(i * 8, BigInt(t.data[i]), true);
    else view.setFloat32(i * 4, t.data[i], true);
  }
  return { name: t.name, dims: [...t.dims], dataType: t.int64 ? ONNX_INT64 : ONNX_FLOAT, rawData: bytes };
}

function encodeIo(io: IoSpec): Record<string, unknown> {
  return {
    name: io.name,
    type: {
      tensorType: {
        elemType: ONNX_FLOAT,
        shape: { dim: io.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}
