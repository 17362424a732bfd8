/** Errors of the simulator and its inputs; messages name the field and the bound. */
export class SimulationInputError extends Error {
  override readonly name = 'SimulationInputError';
}
