"""Correcting masks by hand: the mask editor on the frame view, its panel, its dialogs, and
the dock that embeds them in the viewer (:mod:`.dock`).

The main window embeds it with a few lines::

    editor = MaskEditor(frame_view.view, parent=window)
    panel = AnnotationPanel(editor)                     # in a dock; owns the shortcuts
    edit_menu.addActions([panel.undo_action, panel.redo_action])
    editor.message.connect(window.statusBar().showMessage)

    # after a case has loaded, and whenever the frame on screen or the key frame changes:
    report = editor.open_case(opened, video.frames, key_frame, current_frame=index)
    offer_recovery(window, editor, report)
    editor.set_frame(index)
    editor.set_key_frame(key_frame)
    editor.set_prediction(result.tumor_mask, result.liver_mask)   # after an analysis

    # in closeEvent, and before opening another case:
    if not confirm_close(window, editor):
        event.ignore()
"""
