/**
 * The part of the `smpp` package (0.5.x, untyped) that Kalata uses: a
 * session (client, or a server's accepted connection), the server, and the
 * protocol constants. PDU fields are the SMPP 3.4 names, decoded.
 */
declare module 'smpp' {
  import type { EventEmitter } from 'node:events';
  import type { Server as NetServer, Socket } from 'node:net';

  /** A decoded `short_message` or `message_payload` (with `udh`, one buffer per information element, when UDHI is set). */
  export interface DecodedMessage {
    message: string | Buffer;
    udh?: Buffer[];
  }

  export interface PDU {
    command: string;
    command_id: number;
    command_status: number;
    sequence_number: number;
    system_id?: string;
    password?: string;
    message_id?: string;
    source_addr?: string;
    source_addr_ton?: number;
    source_addr_npi?: number;
    destination_addr?: string;
    dest_addr_ton?: number;
    dest_addr_npi?: number;
    esm_class?: number;
    data_coding?: number;
    registered_delivery?: number;
    short_message?: DecodedMessage | Buffer | string;
    message_payload?: DecodedMessage | Buffer | string;
    receipted_message_id?: string;
    message_state?: number;
    [field: string]: unknown;
    isResponse(): boolean;
    response(options?: Record<string, unknown>): PDU;
  }

  export type Callback = (pdu: PDU) => void;

  export interface Session extends EventEmitter {
    socket: Socket;
    sequence: number;
    server?: Server;
    send(pdu: PDU, responseCallback?: Callback, sendCallback?: Callback): boolean;
    pause(): void;
    resume(): void;
    close(callback?: () => void): void;
    destroy(callback?: () => void): void;
    bind_transceiver(options: Record<string, unknown>, responseCallback?: Callback): boolean;
    submit_sm(options: Record<string, unknown>, responseCallback?: Callback, sendCallback?: Callback): boolean;
    deliver_sm(options: Record<string, unknown>, responseCallback?: Callback): boolean;
    enquire_link(options?: Record<string, unknown> | Callback, responseCallback?: Callback): boolean;
    unbind(options?: Record<string, unknown> | Callback, responseCallback?: Callback): boolean;
  }

  export interface Server extends NetServer {
    sessions: Session[];
  }

  export function connect(options: { host: string; port: number; [option: string]: unknown }, listener?: () => void): Session;
  export function createServer(options: Record<string, unknown>, listener?: (session: Session) => void): Server;
  export function createServer(listener?: (session: Session) => void): Server;
  export const PDU: { new (command: string, options?: Record<string, unknown>): PDU };
  export const errors: Record<string, number>;
  export const consts: {
    ESM_CLASS: Record<string, number>;
    REGISTERED_DELIVERY: Record<string, number>;
    MESSAGE_STATE: Record<string, number>;
    TON: Record<string, number>;
    NPI: Record<string, number>;
    ENCODING: Record<string, number>;
  };
  const smpp: {
    connect: typeof connect;
    createServer: typeof createServer;
    PDU: typeof PDU;
    errors: typeof errors;
    consts: typeof consts;
  };
  export default smpp;
}
