/** What is being dragged on the board and where it would land, shared by the columns. */
import { reactive } from 'vue'

export interface DragState {
  kind: 'card' | 'stage' | null
  id: string | null
  /** A card over this stage, before `overIndex` of its cards as shown. */
  overStage: string | null
  overIndex: number | null
  /** A column dragged before this column index (the column count for "last"). */
  stageInsert: number | null
}

export function createDragState() {
  return reactive<DragState>({ kind: null, id: null, overStage: null, overIndex: null, stageInsert: null })
}

export function resetDrag(drag: DragState) {
  Object.assign(drag, { kind: null, id: null, overStage: null, overIndex: null, stageInsert: null })
}

export const CARD_TYPE = 'application/x-whatpro-card'
export const STAGE_TYPE = 'application/x-whatpro-stage'
