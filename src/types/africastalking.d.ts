/** The part of the `africastalking` SDK (0.8.x, untyped) that Kalata uses. */
declare module 'africastalking' {
  interface SmsSendParams {
    to: string | string[];
    message: string;
    from?: string;
  }
  interface VoiceCallParams {
    callFrom: string;
    callTo: string[];
    clientRequestId?: string;
  }
  interface AfricasTalkingClient {
    SMS: { send(params: SmsSendParams): Promise<unknown> };
    /** rejects with a string when it refuses the parameters itself */
    VOICE: { call(params: VoiceCallParams): Promise<unknown> };
  }
  function AfricasTalking(options: { username: string; apiKey: string; format?: 'json' | 'xml' }): AfricasTalkingClient;
  export default AfricasTalking;
}
