// Bottleneck's light build (no Redis clustering, no Node built-ins) has the main build's API.
declare module 'bottleneck/light.js' {
  import Bottleneck from 'bottleneck';
  export default Bottleneck;
}
