;;; hiccup-eglot-test.el --- headless Emacs 28 + eglot (Debian elpa-eglot 1.9) check of the Hiccup server  -*- lexical-binding: t -*-
;;
;;   HICCUP_LSP_CMD='/path/python -m hiccup serve' emacs --batch -Q -l hiccup-eglot-test.el claude.log
;;
;; Prints one JSON object on the last line; exit 0 when every check passed.
(require 'package)
(add-to-list 'package-directory-list "/usr/share/emacs/site-lisp/elpa") ; -Q drops site-lisp
(setq package-user-dir (expand-file-name "hiccup-elpa-unused" temporary-file-directory)) ; never created
(package-initialize)
(require 'eglot)
(require 'json)
(require 'cl-lib)

(defvar hiccup-result nil)
(defun hiccup-set (k v) (setq hiccup-result (append hiccup-result (list (cons k v)))))
(defun hiccup-out (code)
  (princ (concat (json-encode hiccup-result) "\n"))
  (ignore-errors (eglot-shutdown (eglot-current-server)))
  (kill-emacs code))
(defun hiccup-wait (pred secs)
  "Pump process output and timers until PRED is non-nil or SECS pass (batch mode has no idle loop)."
  (let ((deadline (+ (float-time) secs)))
    (while (and (not (funcall pred)) (< (float-time) deadline))
      (accept-process-output nil 0.05))
    (funcall pred)))

(define-derived-mode claude-log-mode text-mode "ClaudeLog")
(add-to-list 'auto-mode-alist '("\\.log\\'" . claude-log-mode))
(add-to-list 'eglot-server-programs
             `(claude-log-mode . ,(split-string (or (getenv "HICCUP_LSP_CMD") "hiccup serve"))))
(setq eglot-sync-connect 15 eglot-send-changes-idle-time 0.1)
(setq-default eglot-workspace-configuration '(:hiccup (:reminderMinutes 3 :statusPage (:enabled :json-false))))  ; tests never reach the internet

(condition-case err
    (let* ((file (car command-line-args-left))
           (timeout 15))
      (setq command-line-args-left nil)  ; don't let batch mode visit it again
      (find-file file)
      (apply #'eglot (eglot--guess-contact))
      (flymake-start) ; flymake waits for post-command-hook, which batch mode never runs
      (unless (hiccup-wait (lambda () (>= (length (flymake-diagnostics)) 2)) timeout)
        (hiccup-set 'error "no diagnostics") (hiccup-out 1))
      (let* ((diags (sort (flymake-diagnostics) (lambda (a b) (< (flymake-diagnostic-beg a) (flymake-diagnostic-beg b)))))
             (d (car diags))
             (beg (flymake-diagnostic-beg d)) (end (flymake-diagnostic-end d)))
        (hiccup-set 'diagnostics
                    (vconcat (mapcar (lambda (d) `((text . ,(flymake-diagnostic-text d))
                                                   (type . ,(symbol-name (flymake-diagnostic-type d)))
                                                   (line . ,(line-number-at-pos (flymake-diagnostic-beg d)))
                                                   (text_at . ,(buffer-substring-no-properties
                                                                (flymake-diagnostic-beg d)
                                                                (min (+ 14 (flymake-diagnostic-beg d))
                                                                     (flymake-diagnostic-end d))))))
                                     diags)))
        ;; hover, straight through jsonrpc
        (goto-char (1+ beg))
        (let ((h (jsonrpc-request (eglot-current-server) :textDocument/hover
                                  (eglot--TextDocumentPositionParams))))
          (hiccup-set 'hover (plist-get (plist-get h :contents) :value)))
        ;; code actions for the diagnostic's range (non-interactive: returns the list)
        (let ((actions (eglot-code-actions beg end)))
          (hiccup-set 'code_actions (vconcat (mapcar (lambda (a) (plist-get a :title)) actions)))
          (let ((report (cl-find "Copy error report" actions
                                 :key (lambda (a) (plist-get a :title)) :test #'equal)))
            (when report
              (let* ((cmd (plist-get report :command))
                     (res (jsonrpc-request (eglot-current-server) :workspace/executeCommand
                                           `(:command ,(plist-get cmd :command)
                                             :arguments ,(plist-get cmd :arguments)))))
                (hiccup-set 'report (plist-get res :text))))))
        ;; the log grows; eglot sends didChange from an idle timer, so send it by hand in batch mode
        (goto-char (point-max))
        (insert "API Error: 500 {\"type\":\"error\",\"error\":{\"type\":\"api_error\"}}\n")
        (eglot--signal-textDocument/didChange)
        (hiccup-set 'diagnostics_after_append
                    (and (hiccup-wait (lambda () (> (length (flymake-diagnostics)) (length diags))) timeout) t)))
      (let ((ok (and (string-match-p "Next step" (or (cdr (assq 'hover hiccup-result)) ""))
                     (seq-contains-p (cdr (assq 'code_actions hiccup-result)) "Open Claude status page")
                     (string-match-p "internal_server_error" (or (cdr (assq 'report hiccup-result)) ""))
                     (cdr (assq 'diagnostics_after_append hiccup-result)))))
        (hiccup-set 'ok (if ok t :json-false))
        (hiccup-out (if ok 0 1))))
  (error (hiccup-set 'error (format "%S" err)) (hiccup-out 2)))
