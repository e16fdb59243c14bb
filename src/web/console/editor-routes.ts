/**
 * The menu editor (admins): placeholder, being written.
 */
import express, { type Router } from 'express';
import type { AppContext } from '../../context.js';

export function createEditorRoutes(_ctx: AppContext): Router {
  return express.Router();
}
