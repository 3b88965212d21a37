import type { MessageInitShape } from "@bufbuild/protobuf";
import { createRegistry, type DescFile, type DescService, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter } from "@connectrpc/connect";
import * as v1 from "../../gen/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";

/**
 * gRPC server reflection (v1 and v1alpha), built from the generated descriptors, so that
 * `grpcurl -plaintext host:port list` and `buf curl` work without local protos.
 * connect-es has no implementation of its own (connect-es#507). Bidi streaming: HTTP/2 only.
 */
export function registerReflection(router: ConnectRouter, services: DescService[]): void {
  // Reflection lists and resolves itself too, as grpc-go servers do.
  const index = new ReflectionIndex([...services, v1.ServerReflection, v1alpha.ServerReflection]);
  router.service(v1.ServerReflection, {
    async *serverReflectionInfo(requests) {
      for await (const req of requests) yield index.answer(req);
    },
  });
  // v1alpha messages have the same fields and numbers; answer with its own schema.
  router.service(v1alpha.ServerReflection, {
    async *serverReflectionInfo(requests) {
      for await (const req of requests) yield index.answer(req);
    },
  });
}

type AnyRequest = v1.ServerReflectionRequest | v1alpha.ServerReflectionRequest;
type Answer = MessageInitShape<typeof v1.ServerReflectionResponseSchema> &
  MessageInitShape<typeof v1alpha.ServerReflectionResponseSchema>;

class ReflectionIndex {
  private readonly files = new Map<string, DescFile>();
  private readonly registry;
  private readonly serviceNames: string[];

  constructor(services: DescService[]) {
    for (const s of services) this.addFile(s.file);
    this.registry = createRegistry(...this.files.values());
    this.serviceNames = services.map((s) => s.typeName);
  }

  private addFile(file: DescFile): void {
    if (this.files.has(file.name)) return;
    this.files.set(file.proto.name, file);
    for (const dep of file.dependencies) this.addFile(dep);
  }

  answer(req: AnyRequest): Answer {
    const base = {
      validHost: req.host,
      originalRequest: { host: req.host, messageRequest: req.messageRequest } as never,
    };
    const r = req.messageRequest;
    // gRPC code 5 = NOT_FOUND, as reflection clients expect.
    const fail = (message: string): Answer => ({
      ...base,
      messageResponse: { case: "errorResponse", value: { errorCode: 5, errorMessage: message } },
    });
    const files = (file: DescFile | undefined, what: string): Answer =>
      file
        ? {
            ...base,
            messageResponse: {
              case: "fileDescriptorResponse",
              value: { fileDescriptorProto: this.withDeps(file) },
            },
          }
        : fail(`${what} not found`);
    switch (r.case) {
      case "listServices":
        return {
          ...base,
          messageResponse: {
            case: "listServicesResponse",
            value: { service: this.serviceNames.map((name) => ({ name })) },
          },
        };
      case "fileByFilename":
        return files(this.files.get(r.value), `file ${r.value}`);
      case "fileContainingSymbol":
        return files(this.fileOfSymbol(r.value), `symbol ${r.value}`);
      case "fileContainingExtension": {
        const ext = this.findExtension(r.value.containingType, r.value.extensionNumber);
        return files(ext?.file, `extension ${r.value.extensionNumber} of ${r.value.containingType}`);
      }
      case "allExtensionNumbersOfType": {
        const numbers = this.extensionsOf(r.value).map((e) => e.number);
        return {
          ...base,
          messageResponse: {
            case: "allExtensionNumbersResponse",
            value: { baseTypeName: r.value, extensionNumber: numbers },
          },
        };
      }
      default:
        return fail("empty request");
    }
  }

  /** The file and all files it depends on, transitively, each once. */
  private withDeps(file: DescFile): Uint8Array[] {
    const seen = new Set<string>();
    const out: Uint8Array[] = [];
    const visit = (f: DescFile) => {
      if (seen.has(f.proto.name)) return;
      seen.add(f.proto.name);
      out.push(toBinary(FileDescriptorProtoSchema, f.proto));
      for (const d of f.dependencies) visit(d);
    };
    visit(file);
    return out;
  }

  private fileOfSymbol(name: string): DescFile | undefined {
    const direct = this.registry.get(name);
    if (direct) return direct.file;
    // A method ("pkg.Service.Method") or an enum value: look up its parent.
    const dot = name.lastIndexOf(".");
    if (dot < 0) return undefined;
    const parent = this.registry.get(name.slice(0, dot));
    if (parent?.kind === "service" && parent.methods.some((m) => m.name === name.slice(dot + 1)))
      return parent.file;
    return undefined;
  }

  private extensionsOf(typeName: string) {
    const out = [];
    for (const file of this.files.values())
      for (const e of file.extensions) if (e.extendee.typeName === typeName) out.push(e);
    return out;
  }

  private findExtension(typeName: string, number: number) {
    return this.extensionsOf(typeName).find((e) => e.number === number);
  }
}
